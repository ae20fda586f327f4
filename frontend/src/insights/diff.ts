// What saving an optimized definition would change: steps added, removed, changed
// (compared by id, key order ignored), and the workflow-level fields that differ.

export interface DiffSummary {
  added: string[];
  removed: string[];
  changed: string[];
  /** Top-level fields other than steps (error_handling, …) that differ. */
  fields: string[];
}

type Doc = Record<string, unknown> | null | undefined;

/** JSON with object keys sorted, so {a,b} and {b,a} compare equal. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function stepsById(doc: Doc): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const steps = doc && Array.isArray(doc.steps) ? doc.steps : [];
  steps.forEach((step, index) => {
    const id =
      step && typeof step === "object" && typeof (step as { id?: unknown }).id === "string"
        ? (step as { id: string }).id
        : `#${index + 1}`;
    out.set(id, step);
  });
  return out;
}

/** Editor layout never changes what runs: left out of the comparison. */
const IGNORED_FIELDS = new Set(["steps", "ui"]);

export function diffSummary(before: Doc, after: Doc): DiffSummary {
  const a = stepsById(before);
  const b = stepsById(after);
  const added = [...b.keys()].filter((id) => !a.has(id));
  const removed = [...a.keys()].filter((id) => !b.has(id));
  const changed = [...b.keys()].filter(
    (id) => a.has(id) && stableStringify(a.get(id)) !== stableStringify(b.get(id)),
  );
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  const fields = [...keys]
    .filter((k) => !IGNORED_FIELDS.has(k))
    .filter((k) => stableStringify((before ?? {})[k]) !== stableStringify((after ?? {})[k]))
    .sort();
  return { added, removed, changed, fields };
}

export function diffIsEmpty(d: DiffSummary): boolean {
  return !d.added.length && !d.removed.length && !d.changed.length && !d.fields.length;
}
