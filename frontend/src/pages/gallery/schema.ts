// A JSON Schema (for react-jsonschema-form) from a template's declared parameters
// ({name, type, default, enum, description, required}), and the values back.
import type { FormValidation, RJSFSchema, UiSchema } from "@rjsf/utils";

export type ParameterType = "string" | "integer" | "number" | "boolean" | "array" | "object";

export interface TemplateParameter {
  name: string;
  type: ParameterType;
  default?: unknown;
  enum?: unknown[] | null;
  description?: string | null;
  required?: boolean;
}

export type FormData = Record<string, unknown>;

function itemType(values: unknown[]): string {
  const first = values.find((v) => v !== null && v !== undefined);
  if (typeof first === "number") return Number.isInteger(first) ? "integer" : "number";
  if (typeof first === "boolean") return "boolean";
  return "string";
}

export function isRequired(p: TemplateParameter): boolean {
  return p.required ?? (p.default === undefined || p.default === null);
}

/** The form's schema and UI hints. Objects are edited as JSON text. */
export function parameterForm(parameters: TemplateParameter[]): {
  schema: RJSFSchema;
  uiSchema: UiSchema;
} {
  const properties: Record<string, RJSFSchema> = {};
  const uiSchema: UiSchema = { "ui:submitButtonOptions": { norender: true } };
  for (const p of parameters) {
    const hasDefault = p.default !== undefined && p.default !== null;
    const base: RJSFSchema = { title: p.name };
    if (p.description) base.description = p.description;
    if (p.type === "object") {
      properties[p.name] = {
        ...base,
        type: "string",
        ...(hasDefault ? { default: JSON.stringify(p.default, null, 2) } : {}),
      };
      uiSchema[p.name] = {
        "ui:widget": "textarea",
        "ui:help": 'A JSON object, e.g. {"key": "value"}',
        "ui:options": { rows: 4 },
      };
      continue;
    }
    if (p.type === "array") {
      const sample = [...(Array.isArray(p.default) ? p.default : []), ...(p.enum ?? []).flat()];
      properties[p.name] = {
        ...base,
        type: "array",
        items: { type: itemType(sample) } as RJSFSchema,
        ...(hasDefault ? { default: p.default as RJSFSchema["default"] } : {}),
      };
      continue;
    }
    const field: RJSFSchema = { ...base, type: p.type };
    if (hasDefault) field.default = p.default as RJSFSchema["default"];
    if (p.enum && p.enum.length) field.enum = p.enum as RJSFSchema["enum"];
    properties[p.name] = field;
  }
  return {
    schema: {
      type: "object",
      properties,
      required: parameters.filter(isRequired).map((p) => p.name),
    },
    uiSchema,
  };
}

/** Check the JSON text of object parameters (the schema sees them as strings). */
export function validateObjects(parameters: TemplateParameter[]) {
  return (
    data: FormData | undefined,
    errors: FormValidation<FormData>,
  ): FormValidation<FormData> => {
    for (const p of parameters) {
      const raw = data?.[p.name];
      if (p.type !== "object" || typeof raw !== "string" || raw.trim() === "") continue;
      try {
        const parsed = JSON.parse(raw);
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error();
      } catch {
        (errors[p.name] as { addError: (m: string) => void } | undefined)?.addError(
          'must be a JSON object, e.g. {"key": "value"}',
        );
      }
    }
    return errors;
  };
}

/** The values to send: object parameters parsed from JSON text, empty ones left out. */
export function parameterValues(
  parameters: TemplateParameter[],
  data: FormData | undefined,
): FormData {
  const values: FormData = {};
  for (const p of parameters) {
    const raw = data?.[p.name];
    if (raw === undefined || raw === null || raw === "") continue;
    values[p.name] = p.type === "object" && typeof raw === "string" ? JSON.parse(raw) : raw;
  }
  return values;
}
