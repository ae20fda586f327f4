// The editing canvas: React Flow, controlled from the document store.
import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type IsValidConnection,
  type NodeChange,
  type OnNodeDrag,
  type Viewport,
} from "@xyflow/react";
import { useCallback, useMemo, useRef, useState } from "react";
import { definitionToEdges, NodeCache, type DagEdge, type StepFlowNode, type StepIssues } from "../dag/convert";
import { dependencies, wouldCreateCycle } from "../dag/graph";
import { quickLayout } from "../dag/layout";
import { nodeTypes } from "../dag/StepNode";
import type { XY } from "../dag/types";
import { connect, disconnect, removeSteps } from "./documentActions";
import { DRAG_MIME, type PaletteSpec } from "./Palette";
import { commit, dragEnd, dragMove, showToast, useDocStore, useUiStore } from "./store";

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

export function Canvas({
  readOnly,
  issues,
  onAddAt,
  onReady,
  viewportRef,
}: {
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
  const [measured, setMeasured] = useState<ReadonlyMap<string, { width: number; height: number }>>(new Map());

  const stored = doc.ui?.nodes;
  const fallback = useMemo(
    () => (doc.steps.some((s) => !stored?.[s.id]) ? quickLayout(doc.steps) : undefined),
    [doc.steps, stored],
  );
  const nodes = useMemo(
    () => cache.current.nodes(doc, { fallback, override: drag, selected, issues, measured }),
    [doc, fallback, drag, selected, issues, measured],
  );
  const baseEdges = useMemo(() => definitionToEdges(doc.steps), [doc.steps]);
  const edges = useMemo(
    () => (selectedEdges.size ? baseEdges.map((e) => (selectedEdges.has(e.id) ? { ...e, selected: true } : e)) : baseEdges),
    [baseEdges, selectedEdges],
  );

  const onNodesChange = useCallback((changes: NodeChange<StepFlowNode>[]) => {
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
  }, [readOnly]);

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

  const onNodeDragStop: OnNodeDrag<StepFlowNode> = useCallback((_event, _node, dragged) => {
    if (readOnly) return void useUiStore.setState({ dragPositions: null });
    const positions: Record<string, XY> = {};
    for (const n of dragged) positions[n.id] = { x: n.position.x, y: n.position.y };
    dragEnd(positions); // the whole drag: one undo entry
  }, [readOnly]);

  const lastCycleToast = useRef(0);
  const isValidConnection: IsValidConnection<DagEdge> = useCallback((conn) => {
    if (!conn.source || !conn.target) return false;
    const cycle = wouldCreateCycle(dependencies(getDoc().steps), conn.source, conn.target);
    if (cycle && Date.now() - lastCycleToast.current > 1200) {
      lastCycleToast.current = Date.now();
      showToast(CYCLE_MESSAGE, "error");
    }
    return !cycle;
  }, []);

  const onConnect = useCallback((conn: Connection) => {
    const doc = getDoc();
    if (wouldCreateCycle(dependencies(doc.steps), conn.source, conn.target)) {
      showToast(CYCLE_MESSAGE, "error");
      return;
    }
    commit(connect(doc, conn.source, conn.target));
  }, []);

  const onDelete = useCallback(({ nodes, edges }: { nodes: StepFlowNode[]; edges: DagEdge[] }) => {
    let next = getDoc();
    const deps = edges.filter((e) => e.data?.kind !== "reference").map((e) => ({ source: e.source, target: e.target }));
    next = disconnect(next, deps);
    next = removeSteps(next, nodes.map((n) => n.id));
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
      onAddAt(spec, { x: Math.round(p.x - 116), y: Math.round(p.y - 38) });
    },
    [flow, onAddAt, readOnly],
  );

  const large = nodes.length > LARGE;
  // A large workflow opens at a readable zoom on its first steps (only what is
  // visible is rendered); a small one is fitted. A saved viewport wins.
  const initialViewport = useRef(getDoc().ui?.viewport ?? (large ? startViewport(nodes.map((n) => n.position)) : undefined));

  return (
    <div className="relative h-full min-w-0 flex-1" onDragOver={onDragOver} onDrop={onDrop} data-testid="editor-canvas">
      <ReactFlow<StepFlowNode, DagEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
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
        fitView={!initialViewport.current}
        fitViewOptions={{ maxZoom: 1, padding: 0.15 }}
        minZoom={0.05}
        maxZoom={2}
        onInit={() => {
          onReady();
          // The minimap draws every step: it comes right after the canvas is interactive.
          window.requestAnimationFrame(() => window.setTimeout(() => setMiniMap(true), 0));
        }}
        onMoveEnd={(_e, viewport) => {
          viewportRef.current = viewport;
        }}
        defaultEdgeOptions={{ style: { strokeWidth: 1.5 } }}
        proOptions={{ hideAttribution: true }}
        aria-label="Workflow canvas"
      >
        <Background variant={BackgroundVariant.Dots} gap={18} size={1} color="#cbd5e1" />
        {miniMap && (
        <MiniMap
          pannable
          zoomable
          ariaLabel="Mini map"
          nodeColor={(n) => {
            const i = (n as StepFlowNode).data.issues;
            return i?.errors.length ? "#dc2626" : i?.warnings.length ? "#f59e0b" : "#94a3b8";
          }}
        />
        )}
        <Controls showInteractive={false} aria-label="Zoom controls" />
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
              <line x1="0" y1="3" x2="22" y2="3" stroke="#94a3b8" strokeWidth="1.5" strokeDasharray="4 3" />
            </svg>
            reads its result
          </span>
        </div>
      )}
      {doc.steps.length === 0 && (
        <div className="pointer-events-none absolute inset-0 flex items-center justify-center">
          <div className="rounded-lg border border-dashed border-slate-300 bg-white/80 px-6 py-4 text-center shadow-sm">
            <p className="text-sm font-medium text-slate-700">
              {readOnly ? "This workflow has no steps." : "Drag a step from the palette to start"}
            </p>
            {!readOnly && <p className="mt-1 text-xs text-slate-500">Then connect steps by dragging from a step's right handle.</p>}
          </div>
        </div>
      )}
    </div>
  );
}
