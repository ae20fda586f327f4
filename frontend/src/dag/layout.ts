// Layout: a quick synchronous layering for first paint, and elkjs's layered
// algorithm in a Web Worker (off the main thread) for "Auto-layout".
import { dependencies } from "./graph";
import { NODE_HEIGHT, NODE_WIDTH } from "./convert";
import type { StepDef, XY } from "./types";

const GAP_X = 90;
const GAP_Y = 36;
/** A chain longer than this many layers wraps onto the next row (like text). */
export const WRAP_LAYERS = 6;

/**
 * Longest-path layering, left to right: linear in steps + edges. A long chain
 * wraps every WRAP_LAYERS layers onto a new band below, so 50 steps are not one row.
 */
export function quickLayout(
  steps: StepDef[],
  size: (step: StepDef) => { width: number; height: number } = () => ({
    width: NODE_WIDTH,
    height: NODE_HEIGHT,
  }),
): Record<string, XY> {
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
  // Per layer: the steps in it, in document order.
  const byLayer = new Map<number, StepDef[]>();
  for (const step of steps) {
    const l = depth(step.id);
    byLayer.set(l, [...(byLayer.get(l) ?? []), step]);
  }
  const layers = Math.max(0, ...byLayer.keys()) + 1;
  const bands = Math.ceil(layers / WRAP_LAYERS);
  const out: Record<string, XY> = {};
  let top = 0;
  for (let band = 0; band < bands; band++) {
    let bandHeight = 0;
    for (let col = 0; col < WRAP_LAYERS; col++) {
      const l = band * WRAP_LAYERS + col;
      let y = top;
      for (const step of byLayer.get(l) ?? []) {
        out[step.id] = { x: col * (NODE_WIDTH + GAP_X), y };
        y += size(step).height + GAP_Y;
      }
      bandHeight = Math.max(bandHeight, y - top);
    }
    top += bandHeight + GAP_Y;
  }
  return out;
}

/**
 * Where a new card of `size` can go at or near `start` without overlapping any
 * of `taken` (rectangles): the nearest free spot on a spiral of rings around it.
 */
export function freeSpot(
  taken: { x: number; y: number; width: number; height: number }[],
  start: XY,
  size: { width: number; height: number } = { width: NODE_WIDTH, height: NODE_HEIGHT },
  margin = 16,
): XY {
  const clear = (p: XY) =>
    !taken.some(
      (r) =>
        p.x < r.x + r.width + margin &&
        r.x < p.x + size.width + margin &&
        p.y < r.y + r.height + margin &&
        r.y < p.y + size.height + margin,
    );
  if (clear(start)) return start;
  const stepX = Math.round(size.width / 2);
  const stepY = Math.round(size.height / 2);
  for (let ring = 1; ring < 60; ring++) {
    let best: XY | null = null;
    let bestDistance = Infinity;
    for (let i = -ring; i <= ring; i++)
      for (let j = -ring; j <= ring; j++) {
        if (Math.max(Math.abs(i), Math.abs(j)) !== ring) continue;
        const p = { x: start.x + i * stepX, y: start.y + j * stepY };
        const d = Math.hypot(i * stepX, j * stepY);
        if (d < bestDistance && clear(p)) {
          best = p;
          bestDistance = d;
        }
      }
    if (best) return best;
  }
  return start;
}

export interface LayoutRequest {
  id: number;
  nodes: { id: string; width: number; height: number }[];
  edges: { id: string; source: string; target: string }[];
  /** Wrap the layers into rows (a graph longer than WRAP_LAYERS layers). */
  wrap: boolean;
  /** Width / height of the canvas: the rows wrap towards it. */
  aspectRatio: number;
}

/** How many layers the longest dependency path makes. */
export function layerCount(steps: StepDef[]): number {
  const deps = dependencies(steps);
  const memo = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (id: string): number => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let d = 0;
    for (const on of deps.get(id) ?? []) if (deps.has(on)) d = Math.max(d, depth(on) + 1);
    visiting.delete(id);
    memo.set(id, d);
    return d;
  };
  let most = 0;
  for (const id of deps.keys()) most = Math.max(most, depth(id) + 1);
  return most;
}

export interface LayoutResponse {
  id: number;
  positions?: Record<string, XY>;
  /** Each edge's orthogonal route (start, bends, end), keyed `source->target`. */
  routes?: Record<string, XY[]>;
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

export interface Layout {
  positions: Record<string, XY>;
  routes: Record<string, XY[]>;
}

/**
 * elkjs "layered" (left to right, wrapping long graphs into rows) in the worker;
 * resolves to top-left positions and each edge's orthogonal route around the nodes.
 */
export function elkLayout(
  steps: StepDef[],
  sizes: Record<string, { width: number; height: number }> = {},
  aspectRatio = 1.6,
): Promise<Layout> {
  const deps = dependencies(steps);
  const request: LayoutRequest = {
    id: nextId++,
    nodes: steps.map((s) => ({
      id: s.id,
      width: sizes[s.id]?.width ?? NODE_WIDTH,
      height: sizes[s.id]?.height ?? NODE_HEIGHT,
    })),
    edges: [],
    wrap: layerCount(steps) > WRAP_LAYERS,
    aspectRatio,
  };
  for (const [target, on] of deps)
    for (const source of on)
      if (deps.has(source)) request.edges.push({ id: `${source}->${target}`, source, target });
  return new Promise((resolve, reject) => {
    pending.set(request.id, (r) =>
      r.positions
        ? resolve({ positions: r.positions, routes: r.routes ?? {} })
        : reject(new Error(r.error)),
    );
    layoutWorker().postMessage(request);
  });
}
