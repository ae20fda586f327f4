import { describe, expect, it } from "vitest";
import { dependencies, findCycle, wouldCreateCycle } from "./graph";
import type { StepDef } from "./types";

const steps: StepDef[] = [
  { id: "a", type: "data_processing", function: "f" },
  { id: "b", type: "inference", model: "m", depends_on: ["a"] },
  { id: "c", type: "inference", model: "m", input: "${b.result}" },
];

describe("cycle detection", () => {
  it("refuses an edge back to an ancestor, through depends_on and references alike", () => {
    const deps = dependencies(steps);
    expect(wouldCreateCycle(deps, "c", "a")).toBe(true); // a waits for c, c waits (via ref) for b, b for a
    expect(wouldCreateCycle(deps, "b", "a")).toBe(true);
    expect(wouldCreateCycle(deps, "a", "a")).toBe(true);
  });

  it("allows edges that keep the graph acyclic", () => {
    const deps = dependencies(steps);
    expect(wouldCreateCycle(deps, "a", "c")).toBe(false);
    expect(wouldCreateCycle(deps, "b", "c")).toBe(false);
  });

  it("finds an existing cycle and names its path", () => {
    const cyclic: StepDef[] = [...steps, { id: "d", type: "aggregation", depends_on: ["c"] }];
    cyclic[0] = { ...cyclic[0], depends_on: ["d"] };
    expect(findCycle(dependencies(cyclic))).toEqual(["a", "d", "c", "b", "a"]);
    expect(findCycle(dependencies(steps))).toBeNull();
  });
});
