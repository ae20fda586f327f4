import { describe, expect, it } from "vitest";
import { diffIsEmpty, diffSummary, stableStringify } from "./diff";

const before = {
  name: "W",
  steps: [
    { id: "fetch", type: "data_processing", function: "noop" },
    { id: "side", type: "data_processing", function: "noop", depends_on: ["fetch"] },
    { id: "analyze", type: "inference", model: "gpt-4" },
    { id: "old", type: "data_processing", function: "noop" },
  ],
  error_handling: { fallback_models: { "gpt-4": "gpt-3.5-turbo" } },
  ui: { nodes: { fetch: { x: 0, y: 0 } } },
};

describe("diffSummary", () => {
  it("lists added, removed and changed steps and changed workflow fields", () => {
    const after = {
      name: "W",
      steps: [
        { function: "noop", type: "data_processing", id: "fetch" }, // same, other key order
        { id: "side", type: "data_processing", function: "noop" }, // depends_on dropped
        { id: "analyze", type: "inference", model: "gpt-3.5-turbo" },
        { id: "new", type: "data_processing", function: "noop" },
      ],
      error_handling: {
        fallback_models: { "gpt-4": "gpt-3.5-turbo" },
        error_handlers: [{ on: "rate_limit" }],
      },
      ui: { nodes: { fetch: { x: 10, y: 0 } } },
    };
    expect(diffSummary(before, after)).toEqual({
      added: ["new"],
      removed: ["old"],
      changed: ["side", "analyze"],
      fields: ["error_handling"],
    });
  });

  it("is empty for the same document with keys in another order", () => {
    const same = JSON.parse(JSON.stringify(before));
    same.steps[0] = { function: "noop", id: "fetch", type: "data_processing" };
    const d = diffSummary(before, same);
    expect(diffIsEmpty(d)).toBe(true);
  });

  it("treats missing documents and steps as empty", () => {
    expect(diffSummary(null, { steps: [{ id: "a" }] })).toEqual({
      added: ["a"],
      removed: [],
      changed: [],
      fields: [],
    });
    expect(diffSummary({ name: "x" }, undefined)).toEqual({
      added: [],
      removed: [],
      changed: [],
      fields: ["name"],
    });
  });
});

describe("stableStringify", () => {
  it("sorts object keys at every depth and keeps array order", () => {
    expect(stableStringify({ b: 1, a: { d: [2, 1], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,1]},"b":1}',
    );
  });
});
