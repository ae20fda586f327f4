import { describe, expect, it } from "vitest";
import { parameterForm, parameterValues, type TemplateParameter } from "./schema";

const PARAMS: TemplateParameter[] = [
  { name: "input_model", type: "string", default: "gpt-3.5-turbo" },
  { name: "max_tokens", type: "integer", default: 150, description: "Upper bound" },
  { name: "analysis_depth", type: "string", enum: ["basic", "detailed"] },
  { name: "verbose", type: "boolean", default: false, required: false },
  { name: "keywords", type: "array", default: ["a", "b"] },
  { name: "options", type: "object", default: { x: 1 } },
];

describe("parameterForm", () => {
  const { schema, uiSchema } = parameterForm(PARAMS);

  it("maps each parameter type, default, enum and description", () => {
    expect(schema.properties).toMatchObject({
      input_model: { type: "string", default: "gpt-3.5-turbo", title: "input_model" },
      max_tokens: { type: "integer", default: 150, description: "Upper bound" },
      analysis_depth: { type: "string", enum: ["basic", "detailed"] },
      verbose: { type: "boolean", default: false },
      keywords: { type: "array", items: { type: "string" }, default: ["a", "b"] },
      options: { type: "string", default: '{\n  "x": 1\n}' },
    });
    expect(uiSchema.options["ui:widget"]).toBe("textarea");
  });

  it("requires exactly the parameters without a default", () => {
    expect(schema.required).toEqual(["analysis_depth"]);
  });

  it("parses object parameters and leaves out empty values", () => {
    expect(
      parameterValues(PARAMS, {
        max_tokens: 300,
        analysis_depth: "",
        options: '{"y": 2}',
        keywords: ["c"],
      }),
    ).toEqual({ max_tokens: 300, options: { y: 2 }, keywords: ["c"] });
  });
});
