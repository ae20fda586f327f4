// Definition text: JSON or YAML, both ways.
import YAML from "yaml";
import type { WorkflowDefinition } from "../dag/types";

export type CodeFormat = "json" | "yaml";

export function serialize(doc: WorkflowDefinition, format: CodeFormat): string {
  return format === "json" ? JSON.stringify(doc, null, 2) : YAML.stringify(doc);
}

/** Parse a JSON or YAML document; throws an Error that says what is wrong. */
export function parseDefinition(text: string, format: CodeFormat): WorkflowDefinition {
  let value: unknown;
  if (format === "json") {
    value = JSON.parse(text);
  } else {
    const parsed = YAML.parseDocument(text);
    if (parsed.errors.length) throw new Error(parsed.errors[0].message);
    value = parsed.toJS();
  }
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new Error("The document must be an object with a name and steps.");
  const doc = value as WorkflowDefinition;
  if (!Array.isArray(doc.steps)) throw new Error("The document needs a 'steps' list.");
  for (const [i, s] of doc.steps.entries()) {
    if (!s || typeof s !== "object" || Array.isArray(s))
      throw new Error(`steps[${i}] must be an object.`);
    if (typeof s.id !== "string" || !s.id) throw new Error(`steps[${i}] needs an 'id' (text).`);
    if (typeof s.type !== "string") throw new Error(`Step '${s.id}' needs a 'type'.`);
  }
  return doc;
}
