import { describe, expect, it } from "vitest";
import { ApiError } from "../lib/api";
import { definitionGraph, referencedSteps, storedPositions } from "./graph";
import { formToInputs, InputParseError, inputForm, submitErrors } from "./inputForm";
import type { Definition } from "./types";

describe("inputForm", () => {
  const form = inputForm({
    text: { type: "string", description: "What to analyse" },
    api_key: { type: "secret" },
    token: { type: "string", secret: true },
    count: { type: "integer", default: 3 },
    mode: { type: "string", enum: ["fast", "slow"], required: false },
    tags: { type: "array", items: { type: "string" } },
    options: { type: "object", required: false },
    flag: { type: "boolean" },
  });

  it("makes secrets password fields and keeps the declared order", () => {
    expect(form.secretFields).toEqual(["api_key", "token"]);
    expect(form.uiSchema.api_key["ui:widget"]).toBe("password");
    expect(form.uiSchema.token["ui:widget"]).toBe("password");
    expect(form.uiSchema["ui:order"]).toEqual([
      "text",
      "api_key",
      "token",
      "count",
      "mode",
      "tags",
      "options",
      "flag",
      "*",
    ]);
  });

  it("requires what has no default and is not optional", () => {
    expect(form.schema.required).toEqual(["text", "api_key", "token", "tags", "flag"]);
    expect(form.schema.properties?.count).toMatchObject({ type: "integer", default: 3 });
    expect(form.schema.properties?.mode).toMatchObject({ type: "string", enum: ["fast", "slow"] });
    expect(form.schema.properties?.tags).toMatchObject({
      type: "array",
      items: { type: "string" },
    });
  });

  it("edits objects as JSON text and parses them back", () => {
    expect(form.jsonFields).toEqual(["options"]);
    expect(form.schema.properties?.options).toMatchObject({ type: "string" });
    const inputs = formToInputs(
      { text: "hi", api_key: "k", token: "t", count: 3, options: '{"a": 1}', mode: undefined },
      form,
    );
    expect(inputs).toEqual({ text: "hi", api_key: "k", token: "t", count: 3, options: { a: 1 } });
  });

  it("reports JSON that does not parse on its field", () => {
    expect(() => formToInputs({ options: "{nope" }, form)).toThrow(InputParseError);
    try {
      formToInputs({ options: "{nope" }, form);
    } catch (e) {
      expect(submitErrors(e, form).inputs).toEqual({
        options: { __errors: ["is not valid JSON"] },
      });
    }
  });

  it("has an empty schema when the workflow declares no inputs", () => {
    expect(inputForm(undefined).schema).toEqual({ type: "object", properties: {}, required: [] });
  });
});

describe("submitErrors", () => {
  const form = inputForm({ text: { type: "string" }, n: { type: "integer" } });

  it("puts the API's input errors on their fields", () => {
    const error = new ApiError(400, {
      error: "inputs_invalid",
      message: "Invalid inputs: text is required",
      errors: [
        { input: "text", message: "is required (string)" },
        { input: "n", message: "must be of type integer, not str" },
      ],
    });
    const out = submitErrors(error, form);
    expect(out.message).toBe("Invalid inputs: text is required");
    expect(out.inputs).toEqual({
      text: { __errors: ["is required (string)"] },
      n: { __errors: ["must be of type integer, not str"] },
    });
  });

  it("puts request field errors on the execution config", () => {
    const error = new ApiError(400, {
      error: "invalid_request",
      message: "execution_config.timeout: Ensure this value is greater than or equal to 1.",
      fields: { "execution_config.timeout": ["Ensure this value is greater than or equal to 1."] },
    });
    expect(submitErrors(error, form).config).toEqual({
      timeout: "Ensure this value is greater than or equal to 1.",
    });
  });
});

describe("definitionGraph", () => {
  const definition: Definition = {
    name: "wf",
    steps: [
      { id: "a", type: "data_processing", function: "clean_text", input: "${workflow.input.text}" },
      { id: "b", type: "inference", model: "m", input: "Summarise ${a.result}" },
      {
        id: "c",
        type: "aggregation",
        inputs: { x: "${a.result.items[0]}", y: "${ b.result }" },
        depends_on: ["a"],
      },
      { id: "d", type: "data_processing", function: "noop", depends_on: ["c"] },
      {
        id: "l",
        type: "loop",
        iterate_over: "${d.result}",
        step: { type: "inference", input: "${loop.current_item}" },
      },
    ],
  };

  it("draws an edge per dependency: references and depends_on", () => {
    const { nodes, edges } = definitionGraph(definition);
    expect(nodes.map((n) => n.id)).toEqual(["a", "b", "c", "d", "l"]);
    expect(edges.map((e) => [e.id, e.orderOnly])).toEqual([
      ["a->b", false],
      ["a->c", false],
      ["b->c", false],
      ["c->d", true],
      ["d->l", false],
    ]);
  });

  it("finds step references but not workflow, loop or secret ones", () => {
    expect([...referencedSteps(definition.steps[4])]).toEqual(["d"]);
    expect([...referencedSteps(definition.steps[0])]).toEqual([]);
  });

  it("uses stored positions only when every step has one", () => {
    const { nodes } = definitionGraph(definition);
    expect(
      storedPositions({ ...definition, ui: { nodes: { a: { x: 1, y: 2 } } } }, nodes),
    ).toBeNull();
    const all = Object.fromEntries(nodes.map((n, i) => [n.id, { x: i, y: 0 }]));
    expect(storedPositions({ ...definition, ui: { nodes: all } }, nodes)).toEqual(all);
  });
});
