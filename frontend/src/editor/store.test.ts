import { beforeEach, describe, expect, it } from "vitest";
import type { WorkflowDefinition } from "../dag/types";
import { addSteps, cloneSteps, connect, renameStep } from "./documentActions";
import {
  commit,
  dragEnd,
  dragMove,
  isDirty,
  loadDocument,
  redo,
  undo,
  useDocStore,
  useUiStore,
} from "./store";

const base: WorkflowDefinition = {
  name: "W",
  steps: [
    { id: "a", type: "data_processing", function: "clean_text" },
    { id: "b", type: "inference", model: "m", input: "${a.result}" },
  ],
  ui: { nodes: { a: { x: 0, y: 0 }, b: { x: 300, y: 0 } } },
};
const doc = () => useDocStore.getState().doc;
const pastCount = () => useDocStore.temporal.getState().pastStates.length;

describe("undo/redo", () => {
  beforeEach(() => loadDocument(base));

  it("merges a whole node drag into one undo entry", () => {
    dragMove({ a: { x: 10, y: 5 } });
    dragMove({ a: { x: 50, y: 20 } });
    dragMove({ a: { x: 120, y: 40 } });
    expect(doc()).toBe(base); // nothing in the document while dragging
    expect(useUiStore.getState().dragPositions).toEqual({ a: { x: 120, y: 40 } });
    dragEnd({ a: { x: 125, y: 40 } });
    expect(doc().ui?.nodes?.a).toEqual({ x: 125, y: 40 });
    expect(pastCount()).toBe(1);
    undo();
    expect(doc()).toBe(base);
    expect(isDirty()).toBe(false);
    redo();
    expect(doc().ui?.nodes?.a).toEqual({ x: 125, y: 40 });
    expect(isDirty()).toBe(true);
  });

  it("a click without movement adds no entry", () => {
    dragEnd({ a: { x: 0, y: 0 } });
    expect(pastCount()).toBe(0);
  });

  it("merges typing in one field, not edits of different things", () => {
    commit({ ...doc(), name: "W1" }, "meta:name");
    commit({ ...doc(), name: "W12" }, "meta:name");
    commit(connect(doc(), "a", "b"));
    expect(pastCount()).toBe(2);
    undo();
    expect(doc().name).toBe("W12");
    undo();
    expect(doc()).toBe(base);
  });

  it("redo is lost after a new edit", () => {
    commit(connect(doc(), "a", "b"));
    undo();
    commit({ ...doc(), name: "Other" });
    expect(useDocStore.temporal.getState().futureStates.length).toBe(0);
  });
});

describe("document edits", () => {
  it("renaming a step follows its depends_on, references and position", () => {
    const next = renameStep(connect(base, "a", "b"), "a", "clean");
    expect(next.steps[0].id).toBe("clean");
    expect(next.steps[1]).toMatchObject({ depends_on: ["clean"], input: "${clean.result}" });
    expect(next.ui?.nodes).toEqual({ clean: { x: 0, y: 0 }, b: { x: 300, y: 0 } });
  });

  it("pasted copies get new unique ids and point at each other", () => {
    const withDep = connect(base, "a", "b");
    const { steps, positions } = cloneSteps(withDep, withDep.steps, withDep.ui!.nodes!, {
      x: 40,
      y: 40,
    });
    expect(steps.map((s) => s.id)).toEqual(["a_copy", "b_copy"]);
    expect(steps[1]).toMatchObject({ depends_on: ["a_copy"], input: "${a_copy.result}" });
    expect(positions.b_copy).toEqual({ x: 340, y: 40 });
    const again = cloneSteps(
      addSteps(withDep, steps, positions),
      [withDep.steps[0]],
      withDep.ui!.nodes!,
      { x: 0, y: 0 },
    );
    expect(again.steps[0].id).toBe("a_copy_2");
  });
});
