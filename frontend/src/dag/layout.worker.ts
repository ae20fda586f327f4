// Web Worker: runs elkjs's layered layout away from the main thread.
import ELK from "elkjs/lib/elk.bundled.js";
import type { LayoutRequest, LayoutResponse } from "./layout";

const elk = new ELK();

self.onmessage = async (event: MessageEvent<LayoutRequest>) => {
  const { id, nodes, edges } = event.data;
  const reply = (r: LayoutResponse) => (self as unknown as Worker).postMessage(r);
  try {
    const graph = await elk.layout({
      id: "root",
      layoutOptions: {
        "elk.algorithm": "layered",
        "elk.direction": "RIGHT",
        "elk.layered.spacing.nodeNodeBetweenLayers": "90",
        "elk.spacing.nodeNode": "36",
        "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      },
      children: nodes,
      edges: edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
    });
    const positions: LayoutResponse["positions"] = {};
    for (const child of graph.children ?? []) positions[child.id] = { x: child.x ?? 0, y: child.y ?? 0 };
    reply({ id, positions });
  } catch (error) {
    reply({ id, error: String(error) });
  }
};
