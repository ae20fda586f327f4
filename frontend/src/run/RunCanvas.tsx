// The read-only DAG of the run. The nodes array is built once per definition and
// layout; live status never rebuilds it: each node reads its own slice of the store.

import {
  Background,
  Controls,
  MarkerType,
  ReactFlow,
  useReactFlow,
  useStore as useFlowStore,
  type Edge,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useCallback, useEffect, useMemo, useState } from "react";
import { innerPosition } from "../dag/convert";
import { groupSize, layoutGraph, type GraphEdge, type GraphNode, type Position } from "./graph";
import {
  RunBranch,
  RunGroup,
  runEdgeTypes,
  type Branch,
  type RunBranchEdge,
  type RunBranchNode,
  type RunGroupNode,
} from "./RunGroupNode";
import { RunNode, type RunFlowNode } from "./RunNode";
import { useRunStoreApi } from "./store";
import type { Definition } from "./types";

function subtitle(node: GraphNode): string {
  const s = node.step;
  if (s.model) return s.model;
  if (s.function) return s.function;
  if (s.type === "loop" && s.step && typeof s.step === "object") {
    const body = s.step as { model?: string; function?: string };
    return body.model || body.function || "";
  }
  return "";
}

const NO_DEPS: string[] = [];

/** At module scope, as React Flow wants. */
const nodeTypes = { run: RunNode, runGroup: RunGroup, runBranch: RunBranch };

type CanvasNode = RunFlowNode | RunGroupNode | RunBranchNode;

function specDetail(spec: unknown): { label: string; detail: string } {
  const s = (spec ?? {}) as { name?: string; type?: string; model?: string; function?: string };
  return {
    label: s.name || (s.type ? s.type.replace("_", " ") : "step"),
    detail: s.model || s.function || "",
  };
}

const FIT = { padding: 0.2, maxZoom: 1.2 };

/** Fit the graph again when the canvas changes size (the side panel opens or closes). */
function FitOnResize() {
  const width = useFlowStore((s) => s.width);
  const height = useFlowStore((s) => s.height);
  const { fitView } = useReactFlow();
  useEffect(() => {
    if (width && height) void fitView(FIT);
  }, [width, height, fitView]);
  return null;
}

export function RunCanvas({
  definition,
  nodes,
  edges,
}: {
  definition: Definition;
  nodes: GraphNode[];
  edges: GraphEdge[];
}) {
  const [positions, setPositions] = useState<Record<string, Position> | null>(null);
  const [layoutError, setLayoutError] = useState<string | null>(null);
  const store = useRunStoreApi();
  // Stable, so passing it re-renders no node; toggles the side panel.
  const onNodeClick = useCallback(
    (_: unknown, node: CanvasNode) => {
      const { selected, select } = store.getState();
      // A branch card shows its conditional.
      const id = node.type === "runBranch" ? node.data.parent : node.id;
      select(selected === id ? null : id);
    },
    [store],
  );

  useEffect(() => {
    let cancelled = false;
    layoutGraph(definition, { nodes, edges })
      .then((p) => !cancelled && setPositions(p))
      .catch((e: unknown) => {
        if (cancelled) return;
        // Fall back to a simple grid rather than showing nothing.
        setLayoutError(e instanceof Error ? e.message : String(e));
        setPositions(
          Object.fromEntries(
            nodes.map((n, i) => [n.id, { x: (i % 4) * 260, y: Math.floor(i / 4) * 120 }]),
          ),
        );
      });
    return () => {
      cancelled = true;
    };
  }, [definition, nodes, edges]);

  const dependsOn = useMemo(() => {
    const out: Record<string, string[]> = {};
    for (const e of edges) (out[e.target] ??= []).push(e.source);
    return out;
  }, [edges]);
  const flowNodes = useMemo<CanvasNode[]>(() => {
    if (!positions) return [];
    const out: CanvasNode[] = [];
    for (const n of nodes) {
      const position = positions[n.id] ?? { x: 0, y: 0 };
      const size = groupSize(n.step.type);
      const common = { draggable: false, connectable: false, selectable: false };
      if (!size) {
        out.push({
          id: n.id,
          type: "run",
          position,
          data: {
            stepId: n.id,
            label: n.step.name || n.id,
            stepType: n.step.type,
            detail: subtitle(n),
            dependsOn: dependsOn[n.id] ?? NO_DEPS,
          },
          ...common,
        });
        continue;
      }
      const loop = n.step.type === "loop";
      out.push({
        id: n.id,
        type: "runGroup",
        position,
        width: size.width,
        height: size.height,
        data: {
          stepId: n.id,
          label: n.step.name || n.id,
          stepType: loop ? "loop" : "conditional",
          detail: loop ? String(n.step.iterate_over ?? "") : String(n.step.condition ?? ""),
          maxIterations: (n.step as { max_iterations?: number }).max_iterations,
          parallel: !!n.step.parallel,
          body: loop ? subtitle(n) : undefined,
        },
        ...common,
      });
      if (loop) continue;
      for (const branch of ["if_true", "if_false"] as Branch[]) {
        if (!n.step[branch]) continue;
        out.push({
          id: `${n.id}.${branch}`,
          type: "runBranch",
          parentId: n.id,
          extent: "parent",
          position: innerPosition(branch),
          data: { parent: n.id, branch, ...specDetail(n.step[branch]) },
          ...common,
        });
      }
    }
    return out;
  }, [nodes, positions, dependsOn]);
  const flowEdges = useMemo<(Edge | RunBranchEdge)[]>(
    () => [
      // A conditional's branches: the taken one highlighted, the other dimmed (live).
      ...nodes.flatMap((n) =>
        n.step.type !== "conditional"
          ? []
          : (["if_true", "if_false"] as Branch[])
              .filter((branch) => !!n.step[branch])
              .map((branch): RunBranchEdge => ({
                id: `branch:${n.id}:${branch}`,
                source: n.id,
                sourceHandle: branch,
                target: `${n.id}.${branch}`,
                type: "runBranch",
                data: { runKey: `${n.id}.${branch}` },
                focusable: false,
                selectable: false,
                zIndex: 1,
              })),
      ),
      ...edges.map((e) => ({
        id: e.id,
        source: e.source,
        target: e.target,
        type: "default",
        markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16, color: "#94a3b8" },
        style: {
          stroke: "#94a3b8",
          strokeWidth: 1.5,
          ...(e.orderOnly ? { strokeDasharray: "4 4" } : {}),
        },
        focusable: false,
        selectable: false,
      })),
    ],
    [edges, nodes],
  );

  if (!positions) {
    return (
      <div className="flex h-full items-center justify-center text-sm text-slate-400">
        Laying out the graph…
      </div>
    );
  }
  return (
    <div
      className="h-full w-full"
      data-testid="run-canvas"
      data-layout-error={layoutError ?? undefined}
    >
      <ReactFlow
        nodes={flowNodes}
        edges={flowEdges}
        nodeTypes={nodeTypes}
        edgeTypes={runEdgeTypes}
        onNodeClick={onNodeClick}
        fitView
        fitViewOptions={FIT}
        minZoom={0.1}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        nodesFocusable={false}
        edgesFocusable={false}
        zoomOnDoubleClick={false}
        proOptions={{ hideAttribution: false }}
        aria-label="Workflow steps"
      >
        <Background color="#e2e8f0" gap={20} />
        <Controls showInteractive={false} position="bottom-right" />
        <FitOnResize />
      </ReactFlow>
    </div>
  );
}
