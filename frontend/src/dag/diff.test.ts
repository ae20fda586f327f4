import { describe, expect, it } from "vitest";
import { diffDefinitions, unionDefinition } from "./diff";
import type { WorkflowDefinition } from "./types";

const v1: WorkflowDefinition = {
  name: "W",
  steps: [
    { id: "a", type: "inference", model: "m1", input: "x" },
    { id: "b", type: "aggregation", depends_on: ["a"] },
  ],
  ui: { nodes: { a: { x: 0, y: 0 }, b: { x: 300, y: 0 } } },
};
const v2: WorkflowDefinition = {
  name: "W2",
  steps: [
    { id: "a", type: "inference", model: "m2", input: "x", parameters: { temperature: 0.2 } },
    { id: "c", type: "aggregation", depends_on: ["a"] },
  ],
  ui: { nodes: { a: { x: 5, y: 0 }, c: { x: 300, y: 100 } } },
};

describe("version diff", () => {
  it("marks steps added, removed and changed, with field changes", () => {
    const diff = diffDefinitions(v1, v2);
    expect(diff.steps.map((s) => [s.id, s.status])).toEqual([
      ["a", "changed"],
      ["c", "added"],
      ["b", "removed"],
    ]);
    expect(diff.steps[0].changes).toEqual([
      { path: "model", before: "m1", after: "m2" },
      { path: "parameters.temperature", before: undefined, after: 0.2 },
    ]);
    expect(diff.workflow).toEqual([{ path: "name", before: "W", after: "W2" }]);
  });

  it("draws both versions' steps, removed ones where they were", () => {
    const union = unionDefinition(v1, v2);
    expect(union.steps.map((s) => s.id)).toEqual(["a", "c", "b"]);
    expect(union.ui?.nodes).toEqual({
      a: { x: 5, y: 0 },
      b: { x: 300, y: 0 },
      c: { x: 300, y: 100 },
    });
  });
});
