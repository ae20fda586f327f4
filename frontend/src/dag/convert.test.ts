import { describe, expect, it } from "vitest";
import { definitionToEdges, definitionToFlow, flowToDefinition, NodeCache } from "./convert";
import type { WorkflowDefinition } from "./types";

const TEXT_ANALYSIS: WorkflowDefinition = {
  name: "Text Analysis Pipeline",
  description: "Analyze text sentiment and extract entities",
  input_schema: { text: { type: "string" } },
  steps: [
    { id: "sentiment", type: "inference", model: "builtin/sentiment-vader", input: "${workflow.input.text}" },
    {
      id: "entities",
      type: "inference",
      model: "builtin/entities",
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
    const more = [...edges, { id: "dep:entities->sentiment", source: "summary", target: "sentiment", data: { kind: "depends_on" as const } }];
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
