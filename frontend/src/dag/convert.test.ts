import { describe, expect, it } from "vitest";
import {
  definitionToEdges,
  definitionToFlow,
  flowToDefinition,
  NODE_HEIGHT,
  NODE_WIDTH,
  NodeCache,
  nodeSize,
} from "./convert";
import type { WorkflowDefinition } from "./types";

const TEXT_ANALYSIS: WorkflowDefinition = {
  name: "Text Analysis Pipeline",
  description: "Analyze text sentiment and extract entities",
  input_schema: { text: { type: "string" } },
  steps: [
    {
      id: "sentiment",
      type: "inference",
      model: "builtin/sentiment-vader",
      input: "${workflow.input.text}",
    },
    {
      id: "entities",
      type: "inference",
      model: "builtin/capitalized-phrases",
      input: "${workflow.input.text}",
      depends_on: ["sentiment"],
    },
    {
      id: "summary",
      type: "inference",
      model: "builtin/extractive-summary",
      input: "Summarize: Sentiment=${sentiment.result}, Entities=${entities.result}",
      depends_on: ["sentiment", "entities"],
      parameters: { max_tokens: 100 },
    },
  ],
  ui: {
    nodes: { sentiment: { x: 0, y: 0 }, entities: { x: 320, y: 0 }, summary: { x: 640, y: 40.5 } },
    viewport: { x: 10, y: 20, zoom: 0.75 },
  },
};

describe("definition ⇄ flow", () => {
  it("round-trips a definition through React Flow nodes and edges unchanged, positions included", () => {
    const { nodes, edges } = definitionToFlow(TEXT_ANALYSIS);
    expect(nodes.map((n) => n.position)).toEqual([
      { x: 0, y: 0 },
      { x: 320, y: 0 },
      { x: 640, y: 40.5 },
    ]);
    expect(flowToDefinition(TEXT_ANALYSIS, nodes, edges)).toEqual(TEXT_ANALYSIS);
  });

  it("keeps a step without depends_on without one, and an empty depends_on empty", () => {
    const doc: WorkflowDefinition = {
      name: "x",
      steps: [
        { id: "a", type: "aggregation" },
        { id: "b", type: "aggregation", depends_on: [] },
      ],
      ui: { nodes: { a: { x: 1, y: 2 }, b: { x: 3, y: 4 } } },
    };
    const { nodes, edges } = definitionToFlow(doc);
    expect(flowToDefinition(doc, nodes, edges)).toEqual(doc);
  });

  it("adds a depends_on when the canvas gains an edge", () => {
    const { nodes, edges } = definitionToFlow(TEXT_ANALYSIS);
    const more = [
      ...edges,
      {
        id: "dep:entities->sentiment",
        source: "summary",
        target: "sentiment",
        data: { kind: "depends_on" as const },
      },
    ];
    const out = flowToDefinition(TEXT_ANALYSIS, nodes, more);
    expect(out.steps[0].depends_on).toEqual(["summary"]);
  });

  it("reuses node objects that did not change, so only touched nodes re-render", () => {
    const cache = new NodeCache();
    const first = cache.nodes(TEXT_ANALYSIS);
    const second = cache.nodes(TEXT_ANALYSIS, { selected: new Set(["entities"]) });
    expect(second[0]).toBe(first[0]);
    expect(second[1]).not.toBe(first[1]);
    expect(second[1].selected).toBe(true);
    expect(second[2]).toBe(first[2]);
  });
});

describe("edges", () => {
  it("draws depends_on edges solid and reference-only edges dashed and undeletable", () => {
    const doc: WorkflowDefinition = {
      name: "x",
      steps: [
        { id: "a", type: "data_processing", function: "clean_text" },
        { id: "b", type: "inference", model: "m", input: "${a.result.text}" },
        { id: "c", type: "aggregation", inputs: { x: "${b.result}" }, depends_on: ["b"] },
      ],
    };
    const edges = definitionToEdges(doc.steps);
    expect(edges.map((e) => [e.id, e.data?.kind, e.deletable])).toEqual([
      ["ref:a->b", "reference", false],
      ["dep:b->c", "depends_on", undefined],
    ]);
  });
});

const BRANCHED: WorkflowDefinition = {
  name: "Text Analysis Pipeline",
  input_schema: { text: { type: "string" }, docs: { type: "array" } },
  steps: [
    { id: "sentiment", type: "inference", model: "m", input: "${workflow.input.text}" },
    {
      id: "route",
      type: "conditional",
      condition: "${sentiment.result.label} == 'POSITIVE'",
      if_true: {
        type: "inference",
        model: "gpt-3.5-turbo",
        input: "Positive: ${workflow.input.text}",
      },
      if_false: {
        id: "negative",
        type: "inference",
        model: "gpt-3.5-turbo",
        input: "Negative: ${workflow.input.text}",
      },
      depends_on: ["sentiment"],
    },
    {
      id: "each",
      type: "loop",
      iterate_over: "${workflow.input.docs}",
      max_iterations: 20,
      parallel: true,
      step: { type: "data_processing", function: "clean_text", input: "${loop.current_item}" },
      depends_on: ["route"],
    },
  ],
  ui: {
    nodes: { sentiment: { x: 0, y: 0 }, route: { x: 330, y: 0 }, each: { x: 740, y: 0 } },
  },
};

describe("conditionals and loops on the canvas", () => {
  it("draws a conditional as a group with labelled true/false branch edges to its branch cards", () => {
    const { nodes, edges } = definitionToFlow(BRANCHED);
    expect(nodes.map((n) => [n.id, n.type, n.parentId])).toEqual([
      ["sentiment", "step", undefined],
      ["route", "conditional", undefined],
      ["route.if_true", "inner", "route"],
      ["route.if_false", "inner", "route"],
      ["each", "loop", undefined],
      ["each.step", "inner", "each"],
    ]);
    const branches = edges.filter((e) => e.data?.kind === "branch");
    expect(branches.map((e) => [e.source, e.sourceHandle, e.target, e.data?.branch])).toEqual([
      ["route", "if_true", "route.if_true", "if_true"],
      ["route", "if_false", "route.if_false", "if_false"],
    ]);
    expect(branches.every((e) => e.deletable === false)).toBe(true);
    // The group is big enough for its cards, which sit inside it.
    const route = nodes.find((n) => n.id === "route")!;
    for (const id of ["route.if_true", "route.if_false"]) {
      const card = nodes.find((n) => n.id === id)!;
      expect(card.position.y + NODE_HEIGHT).toBeLessThanOrEqual(route.height!);
      expect(card.position.x + NODE_WIDTH).toBeLessThanOrEqual(route.width!);
    }
  });

  it("draws a loop as a group holding its body card", () => {
    const { nodes } = definitionToFlow(BRANCHED);
    const body = nodes.find((n) => n.id === "each.step")!;
    expect(body.data.inner).toEqual({ parent: "each", slot: "step" });
    expect(body.data.step.function).toBe("clean_text");
    expect(nodes.find((n) => n.id === "each")!.data.step.max_iterations).toBe(20);
  });

  it("round-trips conditionals and loops to the same definition document", () => {
    const { nodes, edges } = definitionToFlow(BRANCHED);
    expect(flowToDefinition(BRANCHED, nodes, edges)).toEqual(BRANCHED);
  });

  it("writes an edited branch card back into its conditional's field", () => {
    const { nodes, edges } = definitionToFlow(BRANCHED);
    const edited = nodes.map((n) =>
      n.id === "route.if_true"
        ? { ...n, data: { ...n.data, step: { ...n.data.step, model: "builtin/sentiment-vader" } } }
        : n,
    );
    const out = flowToDefinition(BRANCHED, edited, edges);
    const route = out.steps.find((s) => s.id === "route")!;
    expect(route.if_true).toEqual({
      type: "inference",
      model: "builtin/sentiment-vader",
      input: "Positive: ${workflow.input.text}",
    });
    expect((route.if_false as { id?: string }).id).toBe("negative"); // its own id kept
  });

  it("drops a branch whose card is gone, and never writes inner cards as steps or positions", () => {
    const { nodes, edges } = definitionToFlow(BRANCHED);
    const out = flowToDefinition(
      BRANCHED,
      nodes.filter((n) => n.id !== "route.if_false"),
      edges,
    );
    const route = out.steps.find((s) => s.id === "route")!;
    expect(route.if_false).toBeUndefined();
    expect(route.if_true).toBeDefined();
    expect(out.steps.map((s) => s.id)).toEqual(["sentiment", "route", "each"]);
    expect(Object.keys(out.ui!.nodes!)).toEqual(["sentiment", "route", "each"]);
  });

  it("gives composite steps their group size for the layout", () => {
    expect(nodeSize({ id: "c", type: "conditional" }).height).toBeGreaterThan(2 * NODE_HEIGHT);
    expect(nodeSize({ id: "l", type: "loop" }).height).toBeGreaterThan(NODE_HEIGHT);
    expect(nodeSize({ id: "s", type: "inference" })).toEqual({
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
    });
  });
});
