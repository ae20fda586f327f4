// Web Worker: runs elkjs's layered layout away from the main thread.
import ELK from "elkjs/lib/elk.bundled.js";
import { elkGraph, readLayout } from "./elkGraph";
import type { LayoutRequest, LayoutResponse } from "./layout";

const elk = new ELK();

self.onmessage = async (event: MessageEvent<LayoutRequest>) => {
  const { id } = event.data;
  const reply = (r: LayoutResponse) => (self as unknown as Worker).postMessage(r);
  try {
    const graph = await elk.layout(elkGraph(event.data));
    reply({ id, ...readLayout(graph) });
  } catch (error) {
    reply({ id, error: String(error) });
  }
};
