// References inside a step (`${other.result…}`), mirroring
// workflows/definition/graph.py: the same fields are scanned, nested inline
// steps included, and `$${` is a literal, not a reference.
import type { StepDef } from "./types";

/** Fields whose strings may hold references (graph.py REFERENCE_FIELDS). */
export const REFERENCE_FIELDS = [
  "model",
  "function",
  "input",
  "inputs",
  "parameters",
  "condition",
  "iterate_over",
] as const;

/** Names that start other kinds of reference and are never step ids. */
export const RESERVED_NAMES = new Set([
  "workflow",
  "loop",
  "template",
  "secrets",
  "step",
  "steps",
  "input",
]);

const STEP_REF = /(\$?)\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*result\b/g;

/** Step ids referenced in one text. */
export function stepRefsInText(text: string, into: Set<string> = new Set()): Set<string> {
  if (!text.includes("${")) return into;
  for (const m of text.matchAll(STEP_REF)) {
    if (m[1] === "$") continue; // `$${` escapes
    if (!RESERVED_NAMES.has(m[2])) into.add(m[2]);
  }
  return into;
}

function scanValue(value: unknown, into: Set<string>): void {
  if (typeof value === "string") stepRefsInText(value, into);
  else if (Array.isArray(value)) for (const v of value) scanValue(v, into);
  else if (value && typeof value === "object")
    for (const v of Object.values(value as Record<string, unknown>)) scanValue(v, into);
}

function scanStep(step: Record<string, unknown>, into: Set<string>): void {
  for (const name of REFERENCE_FIELDS) scanValue(step[name], into);
  for (const nested of ["if_true", "if_false", "step"]) {
    const inner = step[nested];
    if (inner && typeof inner === "object" && !Array.isArray(inner))
      scanStep(inner as Record<string, unknown>, into);
  }
}

/** Ids of the steps whose results `step` reads (its own id excluded). */
export function referencedSteps(step: StepDef): string[] {
  const found = new Set<string>();
  scanStep(step as Record<string, unknown>, found);
  found.delete(step.id);
  return [...found];
}

/** Rewrite `${old.result…}` to `${new.result…}` everywhere in a value. */
export function renameRefs<T>(value: T, from: string, to: string): T {
  const pattern = new RegExp(`(^|[^$])\\$\\{(\\s*)${from}(\\s*\\.\\s*result\\b)`, "g");
  const walk = (v: unknown): unknown => {
    if (typeof v === "string")
      return v.includes(from)
        ? v.replace(pattern, (_m, pre, sp, rest) => `${pre}\${${sp}${to}${rest}`)
        : v;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object")
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]),
      );
    return v;
  };
  return walk(value) as T;
}
