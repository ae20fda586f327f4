// Layout: a quick synchronous layering for first paint, and elkjs's layered
// algorithm in a Web Worker (off the main thread) for "Auto-layout".
import { dependencies } from "./graph";
import { NODE_HEIGHT, NODE_WIDTH } from "./convert";
import type { StepDef, XY } from "./types";

const GAP_X = 90;
const GAP_Y = 36;

/** Longest-path layering, left to right: linear in steps + edges. */
export function quickLayout(steps: StepDef[]): Record<string, XY> {
  const deps = dependencies(steps);
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0; // a cycle: validation reports it
    visiting.add(id);
    let d = 0;
    for (const on of deps.get(id) ?? []) if (deps.has(on)) d = Math.max(d, depth(on) + 1);
    visiting.delete(id);
    layer.set(id, d);
    return d;
  };
  const rows = new Map<number, number>();
  const out: Record<string, XY> = {};
  for (const step of steps) {
    const l = depth(step.id);
    const row = rows.get(l) ?? 0;
    rows.set(l, row + 1);
    out[step.id] = { x: l * (NODE_WIDTH + GAP_X), y: row * (NODE_HEIGHT + GAP_Y) };
  }
  return out;
}

export interface LayoutRequest {
  id: number;
  nodes: { id: string; width: number; height: number }[];
  edges: { id: string; source: string; target: string }[];
}

export interface LayoutResponse {
  id: number;
  positions?: Record<string, XY>;
  error?: string;
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, (r: LayoutResponse) => void>();

function layoutWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL("./layout.worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (event: MessageEvent<LayoutResponse>) => {
      const done = pending.get(event.data.id);
      pending.delete(event.data.id);
      done?.(event.data);
    };
  }
  return worker;
}

/** elkjs "layered" (left to right) in the worker; resolves to top-left positions. */
export function elkLayout(
  steps: StepDef[],
  sizes: Record<string, { width: number; height: number }> = {},
): Promise<Record<string, XY>> {
  const deps = dependencies(steps);
  const request: LayoutRequest = {
    id: nextId++,
    nodes: steps.map((s) => ({
      id: s.id,
      width: sizes[s.id]?.width ?? NODE_WIDTH,
      height: sizes[s.id]?.height ?? NODE_HEIGHT,
    })),
    edges: [],
  };
  for (const [target, on] of deps)
    for (const source of on)
      if (deps.has(source)) request.edges.push({ id: `${source}->${target}`, source, target });
  return new Promise((resolve, reject) => {
    pending.set(request.id, (r) => (r.positions ? resolve(r.positions) : reject(new Error(r.error))));
    layoutWorker().postMessage(request);
  });
}
