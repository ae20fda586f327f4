import { describe, expect, it } from "vitest";
import type { WorkflowDefinition } from "../dag/types";
import { detachSlot, moveIntoSlot, setSlot } from "./documentActions";

const doc: WorkflowDefinition = {
  name: "W",
  steps: [
    { id: "sentiment", type: "inference", model: "m", input: "${workflow.input.text}" },
    {
      id: "route",
      type: "conditional",
      condition: "${sentiment.result} == 'x'",
      depends_on: ["sentiment"],
    },
    { id: "pre", type: "data_processing", function: "clean_text", input: "x" },
    {
      id: "positive",
      type: "inference",
      model: "gpt-3.5-turbo",
      input: "Positive: ${pre.result}",
      depends_on: ["pre"],
    },
    {
      id: "report",
      type: "aggregation",
      inputs: { p: "${positive.result}" },
      depends_on: ["positive"],
    },
    { id: "each", type: "loop", iterate_over: "${workflow.input.docs}" },
  ],
  ui: { nodes: { positive: { x: 1, y: 2 }, route: { x: 3, y: 4 } } },
};

describe("moving a step into a branch or a loop body", () => {
  it("makes the step the conditional's inline if_true spec, with no id or depends_on", () => {
    const out = moveIntoSlot(doc, "route", "if_true", "positive");
    const route = out.steps.find((s) => s.id === "route")!;
    expect(route.if_true).toEqual({
      type: "inference",
      model: "gpt-3.5-turbo",
      input: "Positive: ${pre.result}",
    });
    expect(out.steps.some((s) => s.id === "positive")).toBe(false);
    expect(out.ui!.nodes).toEqual({ route: { x: 3, y: 4 } });
  });

  it("hands its dependencies to the parent and its dependents to the parent's result", () => {
    const out = moveIntoSlot(doc, "route", "if_true", "positive");
    expect(out.steps.find((s) => s.id === "route")!.depends_on).toEqual(["sentiment", "pre"]);
    expect(out.steps.find((s) => s.id === "report")).toEqual({
      id: "report",
      type: "aggregation",
      inputs: { p: "${route.result}" },
      depends_on: ["route"],
    });
  });

  it("refuses a slot the step type does not have, and leaves the document alone", () => {
    expect(moveIntoSlot(doc, "route", "step", "positive")).toBe(doc);
    expect(moveIntoSlot(doc, "each", "if_true", "positive")).toBe(doc);
    expect(moveIntoSlot(doc, "route", "if_true", "route")).toBe(doc);
  });

  it("makes a step a loop's body", () => {
    const out = moveIntoSlot(doc, "each", "step", "pre");
    expect(out.steps.find((s) => s.id === "each")!.step).toEqual({
      type: "data_processing",
      function: "clean_text",
      input: "x",
    });
  });

  it("detaches a branch into a top-level step again", () => {
    const filled = setSlot(doc, "route", "if_false", { type: "inference", model: "m2" });
    const { doc: out, id } = detachSlot(filled, "route", "if_false", { x: 9, y: 9 });
    expect(id).toBe("m2");
    expect(out.steps.find((s) => s.id === "route")!.if_false).toBeUndefined();
    expect(out.steps.find((s) => s.id === "m2")).toEqual({
      id: "m2",
      type: "inference",
      model: "m2",
    });
    expect(out.ui!.nodes!.m2).toEqual({ x: 9, y: 9 });
  });
});
