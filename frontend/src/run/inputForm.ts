// The Run dialog's form: the definition's input_schema as a JSON Schema for
// react-jsonschema-form, the form's data back as the execute request's inputs, and
// the API's 400 answers as errors on the fields they name.

import type { ErrorSchema, RJSFSchema, UiSchema } from "@rjsf/utils";
import { ApiError } from "../lib/api";
import type { InputSpec } from "./types";

export interface InputForm {
  schema: RJSFSchema;
  uiSchema: UiSchema;
  /** Inputs edited as JSON text (objects, arrays of objects). */
  jsonFields: string[];
  /** Inputs whose value is a secret (password fields). */
  secretFields: string[];
}

const PRIMITIVE = new Set(["string", "number", "integer", "boolean"]);

function isSecret(spec: InputSpec): boolean {
  return spec.type === "secret" || spec.secret === true;
}

function isRequired(spec: InputSpec): boolean {
  const hasDefault = spec.default !== undefined && spec.default !== null;
  return spec.required !== false && !hasDefault;
}

export function inputForm(inputSchema: Record<string, InputSpec> | undefined | null): InputForm {
  const properties: Record<string, RJSFSchema> = {};
  const required: string[] = [];
  const uiSchema: UiSchema = { "ui:submitButtonOptions": { norender: true } };
  const jsonFields: string[] = [];
  const secretFields: string[] = [];
  const order: string[] = [];
  for (const [name, spec] of Object.entries(inputSchema ?? {})) {
    order.push(name);
    const field: RJSFSchema = { title: name };
    if (spec.description) field.description = spec.description;
    const ui: UiSchema = {};
    if (isSecret(spec)) {
      secretFields.push(name);
      field.type = "string";
      ui["ui:widget"] = "password";
      ui["ui:autocomplete"] = "off";
      ui["ui:help"] = "Secret: sent encrypted, never shown again.";
    } else if (spec.type === "file") {
      field.type = "string";
      ui["ui:placeholder"] = "A URL or upload id";
    } else if (spec.type === "object" || (spec.type === "array" && !primitiveItems(spec))) {
      jsonFields.push(name);
      field.type = "string";
      ui["ui:widget"] = "textarea";
      ui["ui:options"] = { rows: 4 };
      ui["ui:placeholder"] = spec.type === "object" ? '{"key": "value"}' : "[1, 2, 3]";
      if (spec.default !== undefined && spec.default !== null)
        field.default = JSON.stringify(spec.default, null, 2);
      ui["ui:help"] = `JSON ${spec.type}`;
    } else if (spec.type === "array") {
      field.type = "array";
      field.items = { type: (spec.items as { type: "string" }).type };
      if (Array.isArray(spec.default)) field.default = spec.default as RJSFSchema["default"];
    } else {
      field.type = spec.type as "string" | "number" | "integer" | "boolean";
      if (spec.type === "string" && !spec.enum) ui["ui:widget"] = "textarea";
      if (spec.type === "string" && !spec.enum) ui["ui:options"] = { rows: 2 };
    }
    if (spec.enum && !jsonFields.includes(name) && field.type !== "array")
      field.enum = spec.enum as RJSFSchema["enum"];
    if (
      field.default === undefined &&
      spec.default !== undefined &&
      spec.default !== null &&
      !jsonFields.includes(name)
    ) {
      field.default = spec.default as RJSFSchema["default"];
    }
    if (spec.type === "boolean" && field.default === undefined) field.default = false;
    if (isRequired(spec)) required.push(name);
    properties[name] = field;
    if (Object.keys(ui).length) uiSchema[name] = ui;
  }
  uiSchema["ui:order"] = [...order, "*"];
  return { schema: { type: "object", properties, required }, uiSchema, jsonFields, secretFields };
}

function primitiveItems(spec: InputSpec): boolean {
  const t =
    spec.items && typeof spec.items === "object"
      ? (spec.items as { type?: unknown }).type
      : undefined;
  return typeof t === "string" && PRIMITIVE.has(t);
}

export class InputParseError extends Error {
  constructor(public errors: Record<string, string>) {
    super(
      Object.entries(errors)
        .map(([k, v]) => `${k}: ${v}`)
        .join("; "),
    );
  }
}

/** The execute request's `inputs` from the form's data (JSON fields parsed). */
export function formToInputs(
  data: Record<string, unknown> | undefined,
  form: InputForm,
): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const [name, value] of Object.entries(data ?? {})) {
    if (value === undefined || value === null) continue;
    if (form.jsonFields.includes(name)) {
      if (typeof value !== "string" || !value.trim()) continue;
      try {
        inputs[name] = JSON.parse(value);
      } catch {
        errors[name] = "is not valid JSON";
      }
      continue;
    }
    if (value === "" && !(form.schema.required ?? []).includes(name)) continue;
    inputs[name] = value;
  }
  if (Object.keys(errors).length) throw new InputParseError(errors);
  return inputs;
}

export interface SubmitErrors {
  /** Errors to show on the input fields (rjsf `extraErrors`). */
  inputs: ErrorSchema;
  /** Errors on the execution config fields, by field name. */
  config: Record<string, string>;
  /** The message to show above the form. */
  message: string;
}

function addError(schema: ErrorSchema, field: string, message: string): void {
  const node = ((schema as Record<string, { __errors?: string[] }>)[field] ??= {});
  (node.__errors ??= []).push(message);
}

/** Map an error from the execute call onto the form. */
export function submitErrors(error: unknown, form?: InputForm): SubmitErrors {
  const out: SubmitErrors = { inputs: {}, config: {}, message: "" };
  if (error instanceof InputParseError) {
    for (const [field, msg] of Object.entries(error.errors)) addError(out.inputs, field, msg);
    out.message = "Some inputs are not valid JSON.";
    return out;
  }
  if (!(error instanceof ApiError)) {
    out.message = error instanceof Error ? error.message : "Could not start the run.";
    return out;
  }
  out.message = error.message;
  const body = (error.body ?? {}) as Record<string, unknown>;
  const known = new Set(Object.keys(form?.schema.properties ?? {}));
  if (Array.isArray(body.errors)) {
    for (const item of body.errors as Array<Record<string, unknown>>) {
      const name = typeof item.input === "string" ? item.input.replace(/^inputs\./, "") : "";
      const message = typeof item.message === "string" ? item.message : "is not valid";
      if (name && (known.size === 0 || known.has(name))) addError(out.inputs, name, message);
    }
  }
  if (body.fields && typeof body.fields === "object") {
    for (const [path, messages] of Object.entries(body.fields as Record<string, unknown>)) {
      const text = Array.isArray(messages) ? messages.map(String).join(" ") : String(messages);
      if (path.startsWith("execution_config."))
        out.config[path.slice("execution_config.".length)] = text;
      else if (path.startsWith("inputs."))
        addError(out.inputs, path.slice("inputs.".length).split(/[.[]/)[0], text);
    }
  }
  return out;
}
