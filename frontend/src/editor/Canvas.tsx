// The editing canvas: React Flow, controlled from the document store.
import {
  Background,
  BackgroundVariant,
  ControlButton,
  Controls,
  getNodesBounds,
  MiniMap,
  ReactFlow,
  useReactFlow,
  useStore as useFlowStore,
  type Connection,
  type ReactFlowInstance,
  type EdgeChange,
  type IsValidConnection,
  type NodeChange,
  type OnNodeDrag,
  type Viewport,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  definitionToEdges,
  GROUP_HEADER,
  GROUP_ROW,
  NodeCache,
  nodeSize,
  type DagEdge,
  type InnerSlot,
  type StepFlowNode,
  type StepIssues,
} from "../dag/convert";
import { groupActions } from "../dag/GroupNodes";
import { dependencies, wouldCreateCycle } from "../dag/graph";
import { freeSpot, quickLayout } from "../dag/layout";
import { nodeTypes } from "../dag/StepNode";
import type { StepDef, WorkflowDefinition, XY } from "../dag/types";
import {
  connect,
  detachSlot,
  disconnect,
  moveIntoSlot,
  removeSteps,
  setSlot,
  slotsOf,
  type Slot,
} from "./documentActions";
import { DRAG_MIME, type PaletteSpec } from "./Palette";
import { edgeTypes } from "./RoutedEdge";
import { commit, dragEnd, dragMove, select, showToast, useDocStore, useUiStore } from "./store";

export const CYCLE_MESSAGE = "That connection would make a cycle";

/** Above this many steps only what is on screen is rendered, and the view opens on the first steps. */
export const LARGE = 150;

/** A readable view of the workflow's top-left corner (where it starts). */
export function startViewport(positions: XY[]): Viewport {
  const zoom = 0.8;
  let minX = Infinity;
  let minY = Infinity;
  for (const p of positions) {
    minX = Math.min(minX, p.x);
    minY = Math.min(minY, p.y);
  }
  if (!Number.isFinite(minX)) return { x: 0, y: 0, zoom: 1 };
  return { x: 40 - minX * zoom, y: 40 - minY * zoom, zoom };
}

const getDoc = () => useDocStore.getState().doc;

/** Minimap size (px) and the canvas margins kept clear of overlays when fitting. */
export const MINIMAP = { width: 168, height: 112 };
const MARGIN = 16;
const TOP_CLEAR = 44; // the edge legend
const BOTTOM_CLEAR = 52; // the zoom controls (one row, bottom-left)

/**
 * Fits every node into the part of the canvas no overlay covers: below the legend,
 * above the controls, and beside or above the minimap (whichever leaves the larger
 * zoom). The canvas is its own box between the palette and the side panel, so
 * nothing is fitted under them.
 */
export function fitVisible(
  flow: Pick<ReactFlowInstance, "getNodes" | "setViewport">,
  miniMap: boolean,
  duration = 0,
): void {
  const el = document.querySelector('[data-testid="editor-canvas"]');
  const nodes = flow.getNodes().filter((n) => !n.parentId);
  if (!el || !nodes.length) return;
  const { width, height } = el.getBoundingClientRect();
  const bounds = getNodesBounds(nodes);
  const options = [{ top: TOP_CLEAR, bottom: BOTTOM_CLEAR, left: MARGIN, right: MARGIN }];
  if (miniMap) {
    options[0] = {
      ...options[0],
      right: MINIMAP.width + 2 * MARGIN, // beside the minimap
    };
    options.push({
      top: TOP_CLEAR,
      bottom: Math.max(BOTTOM_CLEAR, MINIMAP.height + 2 * MARGIN), // above it
      left: MARGIN,
      right: MARGIN,
    });
  }
  const zoomFor = (p: (typeof options)[number]) =>
    Math.min(
      (width - p.left - p.right) / Math.max(bounds.width, 1),
      (height - p.top - p.bottom) / Math.max(bounds.height, 1),
    );
  const best = options.reduce((a, b) => (zoomFor(b) > zoomFor(a) ? b : a));
  const zoom = Math.max(0.05, Math.min(1, zoomFor(best)));
  // Centre the graph in the free area.
  const freeW = width - best.left - best.right;
  const freeH = height - best.top - best.bottom;
  const x = best.left + (freeW - bounds.width * zoom) / 2 - bounds.x * zoom;
  const y = best.top + (freeH - bounds.height * zoom) / 2 - bounds.y * zoom;
  void flow.setViewport({ x, y, zoom }, { duration });
}

/** Whether `viewport` shows every top-level node whole inside the canvas. */
function showsAll(flow: Pick<ReactFlowInstance, "getNodes">, viewport: Viewport): boolean {
  const el = document.querySelector('[data-testid="editor-canvas"]');
  if (!el) return true;
  const { width, height } = el.getBoundingClientRect();
  return flow
    .getNodes()
    .filter((n) => !n.parentId)
    .every((n) => {
      const w = (n.width ?? n.measured?.width ?? 232) * viewport.zoom;
      const h = (n.height ?? n.measured?.height ?? 80) * viewport.zoom;
      const x = n.position.x * viewport.zoom + viewport.x;
      const y = n.position.y * viewport.zoom + viewport.y;
      return x >= 0 && y >= 0 && x + w <= width && y + h <= height;
    });
}

/** Rectangles the top-level steps take (groups are bigger than cards). */
function takenRects(doc: WorkflowDefinition, skip?: string) {
  const out: { x: number; y: number; width: number; height: number }[] = [];
  for (const step of doc.steps) {
    const p = doc.ui?.nodes?.[step.id];
    if (!p || step.id === skip) continue;
    out.push({ ...p, ...nodeSize(step) });
  }
  return out;
}

/** The group's slot under a flow point: a loop's body, or the conditional's row. */
function slotAt(
  doc: WorkflowDefinition,
  point: XY,
  skip?: string,
): { parent: string; slot: Slot } | null {
  for (const step of doc.steps) {
    if (step.id === skip || !slotsOf(step.type).length) continue;
    const p = doc.ui?.nodes?.[step.id];
    if (!p) continue;
    const size = nodeSize(step);
    if (point.x < p.x || point.x > p.x + size.width || point.y < p.y || point.y > p.y + size.height)
      continue;
    if (step.type === "loop") return { parent: step.id, slot: "step" };
    return {
      parent: step.id,
      slot: point.y < p.y + GROUP_HEADER + GROUP_ROW ? "if_true" : "if_false",
    };
  }
  return null;
}

const SLOT_NAME: Record<Slot, string> = {
  if_true: "true branch",
  if_false: "false branch",
  step: "body",
};

/** Why `step` cannot go into a slot, or null (a group inside a group is not drawn). */
function slotRefusal(step: StepDef | undefined): string | null {
  if (!step) return "That step does not exist";
  if (slotsOf(step.type).length)
    return "A conditional or loop cannot go inside another one on the canvas; use the code view";
  return null;
}

export function Canvas({
  readOnly,
  issues,
  onAddAt,
  onReady,
  viewportRef,
  miniMap: showMiniMap,
  paletteOpen = true,
  onOpenDetails,
}: {
  /** A double-click on a step: show its details (opens a collapsed side panel). */
  onOpenDetails?: () => void;
  miniMap: boolean;
  /** Whether the palette is shown (the empty canvas says where to find it). */
  paletteOpen?: boolean;
  readOnly: boolean;
  issues: ReadonlyMap<string, StepIssues>;
  onAddAt: (spec: PaletteSpec, position: XY) => void;
  onReady: () => void;
  viewportRef: React.MutableRefObject<Viewport | null>;
}) {
  const flow = useReactFlow();
  const doc = useDocStore((s) => s.doc);
  const selected = useUiStore((s) => s.selected);
  const selectedEdges = useUiStore((s) => s.selectedEdges);
  const drag = useUiStore((s) => s.dragPositions);
  const cache = useRef(new NodeCache());
  const [miniMap, setMiniMap] = useState(false);
  const [measured, setMeasured] = useState<ReadonlyMap<string, { width: number; height: number }>>(
    new Map(),
  );

  const stored = doc.ui?.nodes;
  const fallback = useMemo(
    () => (doc.steps.some((s) => !stored?.[s.id]) ? quickLayout(doc.steps, nodeSize) : undefined),
    [doc.steps, stored],
  );
  const nodes = useMemo(
    () => cache.current.nodes(doc, { fallback, override: drag, selected, issues, measured }),
    [doc, fallback, drag, selected, issues, measured],
  );
  const baseEdges = useMemo(() => definitionToEdges(doc.steps), [doc.steps]);
  const edges = useMemo(
    () =>
      selectedEdges.size
        ? baseEdges.map((e) => (selectedEdges.has(e.id) ? { ...e, selected: true } : e))
        : baseEdges,
    [baseEdges, selectedEdges],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<StepFlowNode>[]) => {
      let positions: Record<string, XY> | null = null;
      let finals: Record<string, XY> | null = null;
      let selection: Set<string> | null = null;
      let sizes: Map<string, { width: number; height: number }> | null = null;
      for (const change of changes) {
        if (change.type === "position" && change.position && change.dragging) {
          positions ??= {};
          positions[change.id] = change.position;
        } else if (change.type === "position" && change.position && !readOnly) {
          // The end of a drag, or a move with the arrow keys.
          finals ??= {};
          finals[change.id] = change.position;
        } else if (change.type === "select") {
          selection ??= new Set(useUiStore.getState().selected);
          if (change.selected) selection.add(change.id);
          else selection.delete(change.id);
        } else if (change.type === "dimensions" && change.dimensions) {
          sizes ??= new Map();
          sizes.set(change.id, change.dimensions);
        }
      }
      if (positions) dragMove(positions);
      if (finals) dragEnd(finals);
      if (selection) useUiStore.setState({ selected: selection });
      if (sizes) {
        const add = sizes;
        setMeasured((prev) => {
          const next = new Map(prev);
          for (const [id, d] of add) next.set(id, d);
          return next;
        });
      }
    },
    [readOnly],
  );

  const onEdgesChange = useCallback((changes: EdgeChange<DagEdge>[]) => {
    let selection: Set<string> | null = null;
    for (const change of changes) {
      if (change.type === "select") {
        selection ??= new Set(useUiStore.getState().selectedEdges);
        if (change.selected) selection.add(change.id);
        else selection.delete(change.id);
      }
    }
    if (selection) useUiStore.setState({ selectedEdges: selection });
  }, []);

  const onNodeDragStop: OnNodeDrag<StepFlowNode> = useCallback(
    (_event, _node, dragged) => {
      if (readOnly) return void useUiStore.setState({ dragPositions: null });
      const positions: Record<string, XY> = {};
      for (const n of dragged) positions[n.id] = { x: n.position.x, y: n.position.y };
      // One card dropped onto a loop or a conditional row: it goes inside.
      const node = dragged.length === 1 ? dragged[0] : null;
      if (node && node.type === "step" && !node.parentId) {
        const centre = { x: node.position.x + 116, y: node.position.y + 40 };
        const target = slotAt(getDoc(), centre, node.id);
        const step = getDoc().steps.find((s) => s.id === node.id);
        if (target && !slotRefusal(step)) {
          useUiStore.setState({ dragPositions: null });
          commit(moveIntoSlot(getDoc(), target.parent, target.slot, node.id));
          select([target.parent]);
          showToast(`Moved ${node.id} into the ${SLOT_NAME[target.slot]} of ${target.parent}`);
          return;
        }
      }
      dragEnd(positions); // the whole drag: one undo entry
    },
    [readOnly],
  );

  const lastCycleToast = useRef(0);
  const isValidConnection: IsValidConnection<DagEdge> = useCallback((conn) => {
    if (!conn.source || !conn.target) return false;
    if (conn.sourceHandle === "if_true" || conn.sourceHandle === "if_false")
      return (
        conn.source !== conn.target &&
        !slotRefusal(getDoc().steps.find((s) => s.id === conn.target))
      );
    const cycle = wouldCreateCycle(dependencies(getDoc().steps), conn.source, conn.target);
    if (cycle && Date.now() - lastCycleToast.current > 1200) {
      lastCycleToast.current = Date.now();
      showToast(CYCLE_MESSAGE, "error");
    }
    return !cycle;
  }, []);

  const onConnect = useCallback((conn: Connection) => {
    const doc = getDoc();
    if (conn.sourceHandle === "if_true" || conn.sourceHandle === "if_false") {
      const refusal = slotRefusal(doc.steps.find((s) => s.id === conn.target));
      if (refusal) return showToast(refusal, "error");
      commit(moveIntoSlot(doc, conn.source, conn.sourceHandle, conn.target));
      select([conn.source]);
      showToast(`${conn.target} is now the ${SLOT_NAME[conn.sourceHandle]} of ${conn.source}`);
      return;
    }
    if (wouldCreateCycle(dependencies(doc.steps), conn.source, conn.target)) {
      showToast(CYCLE_MESSAGE, "error");
      return;
    }
    commit(connect(doc, conn.source, conn.target));
  }, []);

  const onDelete = useCallback(({ nodes, edges }: { nodes: StepFlowNode[]; edges: DagEdge[] }) => {
    let next = getDoc();
    const deps = edges
      .filter((e) => e.data?.kind !== "reference")
      .map((e) => ({ source: e.source, target: e.target }));
    next = disconnect(next, deps);
    next = removeSteps(
      next,
      nodes.map((n) => n.id),
    );
    commit(next);
    useUiStore.setState({ selected: new Set(), selectedEdges: new Set() });
  }, []);

  const onDragOver = useCallback(
    (event: React.DragEvent) => {
      if (readOnly || !event.dataTransfer.types.includes(DRAG_MIME)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    },
    [readOnly],
  );

  const onDrop = useCallback(
    (event: React.DragEvent) => {
      if (readOnly) return;
      const raw = event.dataTransfer.getData(DRAG_MIME);
      if (!raw) return;
      event.preventDefault();
      const spec = JSON.parse(raw) as PaletteSpec;
      const p = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      const doc = getDoc();
      // Onto a loop or a conditional's row: the new step goes inside it.
      const target = slotsOf(spec.type).length ? null : slotAt(doc, p);
      if (target) {
        const inline: Record<string, unknown> = { type: spec.type };
        if (spec.model) inline.model = spec.model;
        if (spec.function) inline.function = spec.function;
        commit(setSlot(doc, target.parent, target.slot, inline));
        select([target.parent]);
        return;
      }
      // Under the cursor, moved only as far as needed not to overlap another step.
      const size = nodeSize({ id: "", type: spec.type });
      const start = {
        x: Math.round(p.x - size.width / 2),
        y: Math.round(p.y - Math.min(size.height / 2, 38)),
      };
      onAddAt(spec, freeSpot(takenRects(doc), start, size));
    },
    [flow, onAddAt, readOnly],
  );

  const onNodeClick = useCallback((_: React.MouseEvent, node: StepFlowNode) => {
    // A branch or loop body is edited with its parent.
    if (node.data.inner) select([node.data.inner.parent]);
  }, []);

  // The groups' "take it out" buttons.
  useEffect(() => {
    if (readOnly) return;
    groupActions.detach = (parent: string, slot: InnerSlot) => {
      const doc = getDoc();
      const host = doc.steps.find((s) => s.id === parent);
      const at = doc.ui?.nodes?.[parent] ?? { x: 0, y: 0 };
      const size = host ? nodeSize(host) : { width: 0, height: 0 };
      const spot = freeSpot(takenRects(doc), { x: at.x + size.width + 90, y: at.y });
      const { doc: next, id } = detachSlot(doc, parent, slot, spot);
      if (!id) return;
      commit(next);
      select([id]);
    };
    return () => {
      groupActions.detach = null;
    };
  }, [readOnly]);

  // Fitted again when the canvas changes size (a panel opened or closed, the
  // window resized) until the user moves the view themselves.
  const userMoved = useRef(false);
  const width = useFlowStore((s) => s.width);
  const height = useFlowStore((s) => s.height);
  const ready = useRef(false);
  useEffect(() => {
    if (!ready.current || userMoved.current || !width || !height) return;
    fitVisible(flow, showMiniMap && miniMap);
  }, [width, height, flow, showMiniMap, miniMap]);

  const large = nodes.length > LARGE;
  // A large workflow opens at a readable zoom on its first steps (only what is
  // visible is rendered); a small one is fitted. A saved viewport wins.
  const initialViewport = useRef(
    getDoc().ui?.viewport ?? (large ? startViewport(nodes.map((n) => n.position)) : undefined),
  );

  return (
    <div
      className="relative h-full min-w-0 flex-1"
      onDragOver={onDragOver}
      onDrop={onDrop}
      data-testid="editor-canvas"
    >
      <ReactFlow<StepFlowNode, DagEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodeClick={onNodeClick}
        onNodeDoubleClick={(event, node) => {
          onNodeClick(event, node);
          onOpenDetails?.();
        }}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onNodeDragStop={onNodeDragStop}
        onConnect={onConnect}
        onDelete={onDelete}
        isValidConnection={isValidConnection}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        edgesReconnectable={false}
        deleteKeyCode={readOnly ? null : ["Delete", "Backspace"]}
        multiSelectionKeyCode={["Shift", "Meta", "Control"]}
        selectionKeyCode="Shift"
        onlyRenderVisibleElements={large}
        defaultViewport={initialViewport.current ?? undefined}
        minZoom={0.05}
        maxZoom={2}
        onInit={(instance) => {
          // A saved view is the user's, unless this window is too small for it to
          // show every step of a small workflow: then it is fitted.
          const saved = initialViewport.current;
          if (!saved || (!large && !showsAll(instance, saved))) fitVisible(instance, showMiniMap);
          else userMoved.current = true;
          ready.current = true;
          onReady();
          // The minimap draws every step: it comes right after the canvas is interactive.
          window.requestAnimationFrame(() => window.setTimeout(() => setMiniMap(true), 0));
        }}
        onMoveStart={(event) => {
          if (event) userMoved.current = true; // a pan or zoom by the user, not ours
        }}
        onMoveEnd={(_e, viewport) => {
          viewportRef.current = viewport;
        }}
        defaultEdgeOptions={{ style: { strokeWidth: 1.5 } }}
        proOptions={{ hideAttribution: true }}
        aria-label="Workflow canvas"
      >
        <Background variant={BackgroundVariant.Dots} gap={18} size={1} color="#cbd5e1" />
        {miniMap && showMiniMap && (
          <MiniMap
            pannable
            zoomable
            ariaLabel="Mini map"
            style={{ width: MINIMAP.width, height: MINIMAP.height, margin: MARGIN }}
            nodeColor={(n) => {
              const i = (n as StepFlowNode).data.issues;
              return i?.errors.length ? "#dc2626" : i?.warnings.length ? "#f59e0b" : "#94a3b8";
            }}
          />
        )}
        <Controls
          showInteractive={false}
          showFitView={false}
          orientation="horizontal"
          aria-label="Zoom controls"
        >
          <ControlButton
            onClick={() => {
              userMoved.current = false;
              fitVisible(flow, showMiniMap && miniMap, 200);
            }}
            title="Fit the whole workflow"
            aria-label="Fit view"
          >
            <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden>
              <path
                d="M1 5V1h4M11 1h4v4M15 11v4h-4M5 15H1v-4"
                fill="none"
                stroke="currentColor"
                strokeWidth="1.6"
              />
            </svg>
          </ControlButton>
        </Controls>
      </ReactFlow>
      {doc.steps.length > 1 && (
        <div
          className="pointer-events-none absolute left-3 top-3 flex gap-3 rounded-md border border-slate-200 bg-white/90 px-2 py-1 text-[11px] text-slate-600 shadow-sm"
          aria-label="Edge legend"
        >
          <span className="flex items-center gap-1">
            <svg width="22" height="6" aria-hidden>
              <line x1="0" y1="3" x2="22" y2="3" stroke="#64748b" strokeWidth="1.5" />
            </svg>
            runs after (depends_on)
          </span>
          <span className="flex items-center gap-1">
            <svg width="22" height="6" aria-hidden>
              <line
                x1="0"
                y1="3"
                x2="22"
                y2="3"
                stroke="#94a3b8"
                strokeWidth="1.5"
                strokeDasharray="4 3"
              />
            </svg>
            reads its result
          </span>
        </div>
      )}
      {doc.steps.length === 0 && (
        <div className="pointer-events-none absolute inset-0 flex items-center justify-center">
          <div className="rounded-lg border border-dashed border-slate-300 bg-white/80 px-6 py-4 text-center shadow-sm">
            <p className="text-sm font-medium text-slate-700">
              {readOnly
                ? "This workflow has no steps."
                : paletteOpen
                  ? "Drag a step from the palette to start"
                  : "Open the palette (◧ in the toolbar) and drag a step to start"}
            </p>
            {!readOnly && (
              <p className="mt-1 text-xs text-slate-500">
                Then connect steps by dragging from a step's right handle.
              </p>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
