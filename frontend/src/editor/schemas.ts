// JSON Schemas for the side-panel forms, cut from the server's definition
// schema (GET /schema/workflow-definition) so the form offers what the server
// accepts, per step type; a function step's `parameters` use that function's
// own schema from the catalog.
import type { Catalog, Issue } from "../dag/types";

type Schema = Record<string, unknown>;

const COMMON = ["name", "description"];
const TAIL = ["timeout", "parallel_group", "resource_requirements"];

export const FIELDS_BY_TYPE: Record<string, string[]> = {
  inference: [...COMMON, "model", "input", "parameters", ...TAIL],
  data_processing: [...COMMON, "function", "input", "parameters", ...TAIL],
  aggregation: [...COMMON, "function", "inputs", "parameters", ...TAIL],
  conditional: [...COMMON, "condition", "if_true", "if_false", ...TAIL],
  loop: [...COMMON, "iterate_over", "step", "max_iterations", "parallel", ...TAIL],
  parallel_processing: [...COMMON, "function", "input", "parameters", ...TAIL],
  data_collection: [...COMMON, "function", "input", "parameters", ...TAIL],
};

/** Fields whose text may hold references: they get the insert-reference menu. */
export const REFERENCE_TEXT_FIELDS = new Set(["input", "condition", "iterate_over"]);

const TEXT_WITH_REFS: Schema = {
  type: "string",
  description: "Text; may include references such as ${step.result} or ${workflow.input.NAME}.",
};

const INLINE_STEP: Schema = {
  type: "object",
  properties: {
    type: { type: "string", title: "Type", enum: ["inference", "data_processing", "aggregation"] },
    model: { type: "string", title: "Model" },
    function: { type: "string", title: "Function" },
    input: { ...TEXT_WITH_REFS, title: "Input" },
  },
};

/** Drop `null` alternatives of pydantic's Optional[...] so forms show the field itself. */
export function simplify(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(simplify);
  if (!schema || typeof schema !== "object") return schema;
  const s = { ...(schema as Schema) };
  for (const key of ["anyOf", "oneOf"]) {
    const options = s[key];
    if (Array.isArray(options)) {
      const kept = options.filter(
        (o) => !(o && typeof o === "object" && (o as Schema).type === "null"),
      );
      if (kept.length === 1) {
        delete s[key];
        Object.assign(s, simplify(kept[0]) as Schema, {
          title: s.title,
          description: s.description,
        });
        if (s.title === undefined) delete s.title;
        if (s.description === undefined) delete s.description;
      } else s[key] = kept.map(simplify);
    }
  }
  // No defaults: rjsf would write them into the document on the first edit.
  if ("default" in s) {
    if (
      s.default !== null &&
      typeof s.default !== "object" &&
      typeof s.default !== "boolean" &&
      !s.description
    )
      s.description = `Default: ${String(s.default)}`;
    delete s.default;
  }
  for (const [k, v] of Object.entries(s))
    if (k !== "anyOf" && k !== "oneOf" && typeof v === "object") s[k] = simplify(v);
  return s;
}

function defs(definitionSchema: Schema | undefined): Schema {
  return ((definitionSchema?.$defs as Schema | undefined) ?? {}) as Schema;
}

/** The form schema for one step of `type` (and, for function steps, `fn`). */
export function stepFormSchema(
  type: string,
  fn: string | undefined,
  definitionSchema: Schema | undefined,
  catalog: Catalog | undefined,
): Schema {
  const allDefs = defs(definitionSchema);
  const stepDef = (allDefs.Step as Schema | undefined) ?? {};
  const serverProps = (stepDef.properties as Record<string, Schema> | undefined) ?? {};
  const fields = FIELDS_BY_TYPE[type] ?? [...COMMON, "input", ...TAIL];
  const properties: Record<string, unknown> = {};
  for (const name of fields) {
    let prop: unknown = serverProps[name] ?? { type: "string" };
    if (REFERENCE_TEXT_FIELDS.has(name))
      prop = { ...TEXT_WITH_REFS, title: (serverProps[name]?.title as string) ?? name };
    if (name === "inputs")
      prop = {
        type: "object",
        title: "Inputs",
        description: "Named values, usually references to other steps' results.",
        additionalProperties: { type: "string" },
      };
    if (name === "if_true" || name === "if_false" || name === "step")
      prop = { ...INLINE_STEP, title: (serverProps[name]?.title as string) ?? name };
    if (name === "function" && catalog) {
      const names = catalog.functions.map((f) => f.name);
      prop = { type: "string", title: "Function", enum: names };
    }
    if (name === "parameters") {
      const spec = fn ? catalog?.functions.find((f) => f.name === fn) : undefined;
      if (spec?.parameters && typeof spec.parameters === "object") {
        prop = { ...(spec.parameters as Schema), title: "Parameters" };
      } else if (type === "inference") {
        prop = {
          type: "object",
          title: "Parameters",
          properties: {
            temperature: { type: "number", minimum: 0, maximum: 2, title: "Temperature" },
            max_tokens: { type: "integer", minimum: 1, title: "Max tokens" },
          },
          additionalProperties: true,
        };
      } else {
        prop = { type: "object", title: "Parameters", additionalProperties: true };
      }
    }
    if (name === "resource_requirements")
      prop = { ...(allDefs.ResourceRequirements as Schema), title: "Resource requirements" };
    properties[name] = prop;
  }
  return simplify({ type: "object", properties, $defs: allDefs }) as Schema;
}

export function errorHandlingSchema(definitionSchema: Schema | undefined): Schema | null {
  const allDefs = defs(definitionSchema);
  const eh = allDefs.ErrorHandling as Schema | undefined;
  if (!eh) return null;
  return simplify({ ...eh, title: "", $defs: allDefs }) as Schema;
}

export const INPUT_TYPES = [
  "string",
  "integer",
  "number",
  "boolean",
  "array",
  "object",
  "secret",
  "file",
];

/**
 * rjsf's `extraErrors` for one step: `steps[2].parameters.max_tokens` becomes
 * `{parameters: {max_tokens: {__errors: [...]}}}`.
 */
export function fieldErrors(issues: Issue[], prefixes: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const issue of issues) {
    const prefix = prefixes.find((p) => issue.field === p || issue.field.startsWith(`${p}.`));
    if (prefix === undefined) continue;
    const rest = issue.field.slice(prefix.length + 1);
    if (!rest) continue;
    const parts = rest.split(".").map((p) => p.replace(/\[\d+\]$/, ""));
    let node = out;
    for (const part of parts) node = (node[part] ??= {}) as Record<string, unknown>;
    const list = ((node.__errors as string[] | undefined) ??= []);
    list.push(issue.message);
  }
  return out;
}
