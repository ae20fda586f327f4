// The ELK graph for a layout request, and its answer read back: shared by the
// worker and the unit tests (which run elkjs directly).
import type { ElkNode } from "elkjs/lib/elk-api";
import type { LayoutRequest, LayoutResponse } from "./layout";
import type { XY } from "./types";

/**
 * Every node has one port in the middle of its left side (in) and one in the
 * middle of its right side (out), where React Flow draws the handles, so ELK's
 * edge routes start and end exactly where the canvas draws the edges. Long
 * graphs wrap into rows (`wrapping`), the edge between rows routed around them.
 */
export function elkGraph({ nodes, edges, wrap, aspectRatio }: LayoutRequest): ElkNode {
  return {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.layered.spacing.nodeNodeBetweenLayers": "90",
      "elk.spacing.nodeNode": "36",
      "elk.spacing.edgeNode": "20",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      ...(wrap
        ? {
            "elk.layered.wrapping.strategy": "MULTI_EDGE",
            "elk.aspectRatio": String(Math.min(4, Math.max(0.8, aspectRatio))),
          }
        : {}),
    },
    children: nodes.map((n) => ({
      id: n.id,
      width: n.width,
      height: n.height,
      layoutOptions: { "elk.portConstraints": "FIXED_POS" },
      ports: [
        {
          id: `${n.id}:in`,
          width: 0,
          height: 0,
          x: 0,
          y: n.height / 2,
          layoutOptions: { "elk.port.side": "WEST" },
        },
        {
          id: `${n.id}:out`,
          width: 0,
          height: 0,
          x: n.width,
          y: n.height / 2,
          layoutOptions: { "elk.port.side": "EAST" },
        },
      ],
    })),
    edges: edges.map((e) => ({
      id: e.id,
      sources: [`${e.source}:out`],
      targets: [`${e.target}:in`],
    })),
  };
}

export function readLayout(graph: ElkNode): Pick<LayoutResponse, "positions" | "routes"> {
  const positions: Record<string, XY> = {};
  for (const child of graph.children ?? [])
    positions[child.id] = { x: child.x ?? 0, y: child.y ?? 0 };
  const routes: Record<string, XY[]> = {};
  for (const edge of graph.edges ?? []) {
    const section = edge.sections?.[0];
    if (!section) continue;
    routes[edge.id] = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map(
      (p) => ({ x: p.x, y: p.y }),
    );
  }
  return { positions, routes };
}
