// What changed between two versions of a definition: per step (added,
// removed, changed with field-level changes) and at the workflow level.
import type { DiffStatus, StepDef, WorkflowDefinition } from "./types";

export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

export interface StepDiff {
  id: string;
  status: DiffStatus;
  changes: FieldChange[];
}

export interface DefinitionDiff {
  steps: StepDiff[];
  workflow: FieldChange[];
}

function flatten(value: unknown, path: string, out: Map<string, unknown>): void {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.length && path) out.set(path, value);
    for (const [k, v] of entries) flatten(v, path ? `${path}.${k}` : k, out);
  } else if (value !== undefined) {
    out.set(path, value);
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Leaf-level changes between two values; arrays compare as a whole. */
export function fieldChanges(before: unknown, after: unknown, skip: string[] = []): FieldChange[] {
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  flatten(before, "", a);
  flatten(after, "", b);
  const paths = [...new Set([...a.keys(), ...b.keys()])];
  return paths
    .filter((p) => !skip.some((s) => p === s || p.startsWith(`${s}.`)))
    .filter((p) => !same(a.get(p), b.get(p)))
    .map((p) => ({ path: p, before: a.get(p), after: b.get(p) }));
}

export function diffDefinitions(
  before: WorkflowDefinition,
  after: WorkflowDefinition,
): DefinitionDiff {
  const old = new Map(before.steps.map((s) => [s.id, s]));
  const now = new Map(after.steps.map((s) => [s.id, s]));
  const steps: StepDiff[] = [];
  for (const step of after.steps) {
    const prev = old.get(step.id);
    if (!prev) steps.push({ id: step.id, status: "added", changes: [] });
    else {
      const changes = fieldChanges(prev, step);
      steps.push({ id: step.id, status: changes.length ? "changed" : "unchanged", changes });
    }
  }
  for (const step of before.steps)
    if (!now.has(step.id)) steps.push({ id: step.id, status: "removed", changes: [] });
  const { steps: _a, ...restBefore } = before;
  const { steps: _b, ...restAfter } = after;
  return { steps, workflow: fieldChanges(restBefore, restAfter, ["ui"]) };
}

/**
 * One document holding both versions' steps for a read-only canvas: the
 * newer steps plus the removed ones, placed where each version had them.
 */
export function unionDefinition(
  before: WorkflowDefinition,
  after: WorkflowDefinition,
): WorkflowDefinition {
  const ids = new Set(after.steps.map((s) => s.id));
  const removed: StepDef[] = before.steps.filter((s) => !ids.has(s.id));
  const nodes = { ...(before.ui?.nodes ?? {}), ...(after.ui?.nodes ?? {}) };
  for (const id of Object.keys(nodes))
    if (!ids.has(id) && !removed.some((s) => s.id === id)) delete nodes[id];
  return { ...after, steps: [...after.steps, ...removed], ui: { nodes } };
}
