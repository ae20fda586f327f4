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
import { layoutGraph, type GraphEdge, type GraphNode, type Position } from "./graph";
import { nodeTypes, type RunFlowNode } from "./RunNode";
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

export function RunCanvas({ definition, nodes, edges }: { definition: Definition; nodes: GraphNode[]; edges: GraphEdge[] }) {
  const [positions, setPositions] = useState<Record<string, Position> | null>(null);
  const [layoutError, setLayoutError] = useState<string | null>(null);
  const store = useRunStoreApi();
  // Stable, so passing it re-renders no node; toggles the side panel.
  const onNodeClick = useCallback(
    (_: unknown, node: RunFlowNode) => {
      const { selected, select } = store.getState();
      select(selected === node.id ? null : node.id);
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
        setPositions(Object.fromEntries(nodes.map((n, i) => [n.id, { x: (i % 4) * 260, y: Math.floor(i / 4) * 120 }])));
      });
    return () => {
      cancelled = true;
    };
  }, [definition, nodes, edges]);

  const flowNodes = useMemo<RunFlowNode[]>(
    () =>
      positions
        ? nodes.map((n) => ({
            id: n.id,
            type: "run",
            position: positions[n.id] ?? { x: 0, y: 0 },
            data: { stepId: n.id, label: n.step.name || n.id, stepType: n.step.type, detail: subtitle(n) },
            draggable: false,
            connectable: false,
            selectable: false,
          }))
        : [],
    [nodes, positions],
  );
  const flowEdges = useMemo<Edge[]>(
    () =>
      edges.map((e) => ({
        id: e.id,
        source: e.source,
        target: e.target,
        type: "default",
        markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16, color: "#94a3b8" },
        style: { stroke: "#94a3b8", strokeWidth: 1.5, ...(e.orderOnly ? { strokeDasharray: "4 4" } : {}) },
        focusable: false,
        selectable: false,
      })),
    [edges],
  );

  if (!positions) {
    return <div className="flex h-full items-center justify-center text-sm text-slate-400">Laying out the graph…</div>;
  }
  return (
    <div className="h-full w-full" data-testid="run-canvas" data-layout-error={layoutError ?? undefined}>
      <ReactFlow
        nodes={flowNodes}
        edges={flowEdges}
        nodeTypes={nodeTypes}
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
