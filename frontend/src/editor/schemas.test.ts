import { describe, expect, it } from "vitest";
import type { Catalog, Issue } from "../dag/types";
import { parseDefinition, serialize } from "./codec";
import { removeSteps, renameProblem, uniqueStepId } from "./documentActions";
import { fieldErrors, simplify, stepFormSchema } from "./schemas";

const catalog: Catalog = {
  step_types: [],
  models: [],
  error_types: [],
  functions: [
    {
      name: "clean_text",
      description: "",
      parameters: {
        type: "object",
        properties: { lowercase: { type: "boolean", default: false } },
      },
      input: {},
      output: {},
    },
  ],
};

describe("form schemas", () => {
  it("drops pydantic's null alternatives and defaults", () => {
    expect(
      simplify({
        anyOf: [{ type: "string", maxLength: 200 }, { type: "null" }],
        default: null,
        title: "Name",
      }),
    ).toEqual({ type: "string", maxLength: 200, title: "Name" });
  });

  it("gives a function step its function's parameters and the catalog's functions", () => {
    const schema = stepFormSchema("data_processing", "clean_text", undefined, catalog) as {
      properties: Record<string, Record<string, unknown>>;
    };
    expect(schema.properties.function.enum).toEqual(["clean_text"]);
    expect(schema.properties.parameters.properties).toEqual({ lowercase: { type: "boolean" } });
    expect(Object.keys(schema.properties)).not.toContain("model");
  });

  it("puts the server's field errors on the step's fields", () => {
    const issues: Issue[] = [
      {
        severity: "error",
        code: "missing_model",
        message: "needs a model",
        step: "a",
        field: "steps[2].model",
      },
      {
        severity: "error",
        code: "x",
        message: "too big",
        step: "a",
        field: "steps[2].parameters.max_tokens",
      },
      { severity: "error", code: "y", message: "other step", step: "b", field: "steps[3].model" },
    ];
    expect(fieldErrors(issues, ["steps[2]"])).toEqual({
      model: { __errors: ["needs a model"] },
      parameters: { max_tokens: { __errors: ["too big"] } },
    });
  });
});

describe("definition text", () => {
  it("reads back what it writes, in JSON and YAML", () => {
    const doc = {
      name: "W",
      steps: [{ id: "a", type: "inference", model: "m", input: "${workflow.input.x}" }],
    };
    expect(parseDefinition(serialize(doc, "json"), "json")).toEqual(doc);
    expect(parseDefinition(serialize(doc, "yaml"), "yaml")).toEqual(doc);
  });

  it("says what is wrong with text that is not a definition", () => {
    expect(() => parseDefinition("{", "json")).toThrow();
    expect(() => parseDefinition("name: x", "yaml")).toThrow("needs a 'steps' list");
    expect(() => parseDefinition('{"steps": [{"type": "inference"}]}', "json")).toThrow(
      "needs an 'id'",
    );
  });
});

describe("document actions", () => {
  it("makes readable unique ids that are not reserved words", () => {
    expect(uniqueStepId("builtin/sentiment-vader", [])).toBe("sentiment_vader");
    expect(uniqueStepId("inference", ["inference"])).toBe("inference_2");
    expect(uniqueStepId("workflow", [])).toBe("workflow_step");
  });

  it("refuses bad or taken step ids", () => {
    const doc = {
      name: "W",
      steps: [
        { id: "a", type: "x" },
        { id: "b", type: "x" },
      ],
    };
    expect(renameProblem(doc, "a", "b")).toContain("already");
    expect(renameProblem(doc, "a", "1x")).toContain("letters");
    expect(renameProblem(doc, "a", "loop")).toContain("reserved");
    expect(renameProblem(doc, "a", "c")).toBeNull();
  });

  it("removing a step removes it from others' depends_on and the layout", () => {
    const doc = {
      name: "W",
      steps: [
        { id: "a", type: "x" },
        { id: "b", type: "x", depends_on: ["a"] },
      ],
      ui: { nodes: { a: { x: 0, y: 0 }, b: { x: 1, y: 1 } } },
    };
    expect(removeSteps(doc, ["a"])).toEqual({
      name: "W",
      steps: [{ id: "b", type: "x", depends_on: [] }],
      ui: { nodes: { b: { x: 1, y: 1 } } },
    });
  });
});
