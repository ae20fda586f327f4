import ELK from "elkjs/lib/elk.bundled.js";
import { describe, expect, it } from "vitest";
import { NODE_HEIGHT, NODE_WIDTH, nodeSize } from "./convert";
import { elkGraph, readLayout } from "./elkGraph";
import { freeSpot, layerCount, quickLayout, WRAP_LAYERS } from "./layout";
import type { StepDef, XY } from "./types";

const chain = (n: number): StepDef[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `s${i}`,
    type: "data_processing",
    function: "noop",
    ...(i ? { depends_on: [`s${i - 1}`] } : {}),
  }));

type Rect = { x: number; y: number; width: number; height: number };

/** Whether the segment a→b passes through the inside of r (axis-parallel segments). */
function crosses(a: XY, b: XY, r: Rect): boolean {
  const [x0, x1] = [Math.min(a.x, b.x), Math.max(a.x, b.x)];
  const [y0, y1] = [Math.min(a.y, b.y), Math.max(a.y, b.y)];
  return x0 < r.x + r.width - 1 && x1 > r.x + 1 && y0 < r.y + r.height - 1 && y1 > r.y + 1;
}

async function layout(steps: StepDef[], aspectRatio = 1.6) {
  const deps = steps.flatMap((s) =>
    (s.depends_on ?? []).map((d) => ({ id: `${d}->${s.id}`, source: d, target: s.id })),
  );
  const request = {
    id: 1,
    nodes: steps.map((s) => ({ id: s.id, ...nodeSize(s) })),
    edges: deps,
    wrap: layerCount(steps) > WRAP_LAYERS,
    aspectRatio,
  };
  return readLayout(await new ELK().layout(elkGraph(request)));
}

describe("quick layout", () => {
  it("wraps a 50-step chain into rows instead of one long row", () => {
    const positions = quickLayout(chain(50));
    const rows = new Set(Object.values(positions).map((p) => p.y));
    const columns = new Set(Object.values(positions).map((p) => p.x));
    expect(rows.size).toBe(Math.ceil(50 / WRAP_LAYERS));
    expect(columns.size).toBe(WRAP_LAYERS);
  });

  it("keeps a short graph in one band, layer by layer", () => {
    const positions = quickLayout(chain(3));
    expect(new Set(Object.values(positions).map((p) => p.y)).size).toBe(1);
    expect(positions.s2.x).toBeGreaterThan(positions.s1.x);
  });
});

describe("ELK layout", () => {
  it("lays a 50-step chain out in rows, every edge routed around the nodes", async () => {
    const steps = chain(50);
    const { positions, routes } = await layout(steps);
    const rows = new Set(Object.values(positions!).map((p) => Math.round(p.y)));
    expect(rows.size).toBeGreaterThanOrEqual(5);
    const rects = new Map(
      Object.entries(positions!).map(([id, p]) => [
        id,
        { ...p, width: NODE_WIDTH, height: NODE_HEIGHT },
      ]),
    );
    expect(Object.keys(routes!)).toHaveLength(49);
    for (const [key, points] of Object.entries(routes!)) {
      const [source, target] = key.split("->");
      for (let i = 1; i < points.length; i++)
        for (const [id, rect] of rects) {
          if (id === source || id === target) continue;
          expect(crosses(points[i - 1], points[i], rect), `${key} crosses ${id}`).toBe(false);
        }
      // It starts at the middle of the source's right side and ends at the target's left.
      const s = rects.get(source)!;
      const t = rects.get(target)!;
      expect(points[0]).toEqual({ x: s.x + s.width, y: s.y + s.height / 2 });
      expect(points[points.length - 1]).toEqual({ x: t.x, y: t.y + t.height / 2 });
    }
  });

  it("does not wrap a short graph", async () => {
    const { positions } = await layout(chain(4));
    expect(new Set(Object.values(positions!).map((p) => p.y)).size).toBe(1);
  });

  it("gives a conditional group its full height", async () => {
    const steps: StepDef[] = [
      { id: "a", type: "inference" },
      { id: "c", type: "conditional", depends_on: ["a"] },
      { id: "b", type: "inference" },
    ];
    const { positions } = await layout(steps);
    const c = { ...positions!.c, ...nodeSize(steps[1]) };
    const b = { ...positions!.b, width: NODE_WIDTH, height: NODE_HEIGHT };
    const overlap =
      b.x < c.x + c.width && c.x < b.x + b.width && b.y < c.y + c.height && c.y < b.y + b.height;
    expect(overlap).toBe(false);
  });
});

describe("free spot", () => {
  const card = { width: NODE_WIDTH, height: NODE_HEIGHT };
  it("keeps the spot when nothing is there", () => {
    expect(freeSpot([{ x: 0, y: 0, ...card }], { x: 600, y: 0 })).toEqual({ x: 600, y: 0 });
  });

  it("moves a drop on top of another card to the nearest place clear of it", () => {
    const taken = [{ x: 0, y: 0, ...card }];
    const spot = freeSpot(taken, { x: 10, y: 10 });
    const clear =
      spot.x >= NODE_WIDTH + 16 ||
      spot.x + NODE_WIDTH + 16 <= 0 ||
      spot.y >= NODE_HEIGHT + 16 ||
      spot.y + NODE_HEIGHT + 16 <= 0;
    expect(clear).toBe(true);
    expect(Math.hypot(spot.x - 10, spot.y - 10)).toBeLessThan(2 * NODE_WIDTH);
  });
});
