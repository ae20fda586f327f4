// Pure edits of the definition document. Each returns a new document and
// leaves the old one untouched (undo keeps the old objects).
import { renameRefs, RESERVED_NAMES } from "../dag/references";
import type { InputSpec, StepDef, WorkflowDefinition, XY } from "../dag/types";

export const STEP_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function emptyDefinition(): WorkflowDefinition {
  return {
    name: "Untitled workflow",
    description: "",
    version: "1.0",
    steps: [],
    input_schema: {},
    ui: { nodes: {} },
  };
}

/** A readable, unique step id from a hint such as a model or function name. */
export function uniqueStepId(hint: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  let base = (hint.split("/").pop() ?? hint)
    .replace(/[^A-Za-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .toLowerCase()
    .slice(0, 60);
  if (!base || !/^[A-Za-z_]/.test(base)) base = `step_${base}`;
  if (RESERVED_NAMES.has(base)) base = `${base}_step`;
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) if (!used.has(`${base}_${n}`)) return `${base}_${n}`;
}

function withPositions(doc: WorkflowDefinition, positions: Record<string, XY>): WorkflowDefinition {
  return { ...doc, ui: { ...(doc.ui ?? {}), nodes: { ...(doc.ui?.nodes ?? {}), ...positions } } };
}

export function addSteps(
  doc: WorkflowDefinition,
  steps: StepDef[],
  positions: Record<string, XY>,
): WorkflowDefinition {
  return withPositions({ ...doc, steps: [...doc.steps, ...steps] }, positions);
}

export function removeSteps(doc: WorkflowDefinition, ids: Iterable<string>): WorkflowDefinition {
  const gone = new Set(ids);
  if (gone.size === 0) return doc;
  const steps = doc.steps
    .filter((s) => !gone.has(s.id))
    .map((s) =>
      s.depends_on?.some((d) => gone.has(d))
        ? { ...s, depends_on: s.depends_on.filter((d) => !gone.has(d)) }
        : s,
    );
  const nodes = { ...(doc.ui?.nodes ?? {}) };
  for (const id of gone) delete nodes[id];
  return { ...doc, steps, ui: { ...(doc.ui ?? {}), nodes } };
}

/** target now depends_on source. */
export function connect(
  doc: WorkflowDefinition,
  source: string,
  target: string,
): WorkflowDefinition {
  return {
    ...doc,
    steps: doc.steps.map((s) =>
      s.id === target && !(s.depends_on ?? []).includes(source)
        ? { ...s, depends_on: [...(s.depends_on ?? []), source] }
        : s,
    ),
  };
}

export function disconnect(
  doc: WorkflowDefinition,
  pairs: { source: string; target: string }[],
): WorkflowDefinition {
  if (!pairs.length) return doc;
  return {
    ...doc,
    steps: doc.steps.map((s) => {
      const drop = pairs.filter((p) => p.target === s.id).map((p) => p.source);
      if (!drop.length || !s.depends_on) return s;
      return { ...s, depends_on: s.depends_on.filter((d) => !drop.includes(d)) };
    }),
  };
}

export function moveNodes(
  doc: WorkflowDefinition,
  positions: Record<string, XY>,
): WorkflowDefinition {
  return withPositions(doc, positions);
}

export function setAllPositions(
  doc: WorkflowDefinition,
  positions: Record<string, XY>,
): WorkflowDefinition {
  return { ...doc, ui: { ...(doc.ui ?? {}), nodes: positions } };
}

export function replaceStep(
  doc: WorkflowDefinition,
  id: string,
  step: StepDef,
): WorkflowDefinition {
  return { ...doc, steps: doc.steps.map((s) => (s.id === id ? step : s)) };
}

/** Why `next` cannot be the new id of `current`, or null when it can. */
export function renameProblem(
  doc: WorkflowDefinition,
  current: string,
  next: string,
): string | null {
  if (!STEP_ID_PATTERN.test(next)) return "Use letters, digits and _, starting with a letter or _.";
  if (RESERVED_NAMES.has(next)) return `'${next}' is a reserved word.`;
  if (next !== current && doc.steps.some((s) => s.id === next))
    return `Another step is already called '${next}'.`;
  return null;
}

/** Renames a step and every depends_on, reference and position that names it. */
export function renameStep(doc: WorkflowDefinition, from: string, to: string): WorkflowDefinition {
  if (from === to) return doc;
  const steps = doc.steps.map((s) => {
    let next = s.id === from ? { ...s, id: to } : s;
    if (next.depends_on?.includes(from))
      next = { ...next, depends_on: next.depends_on.map((d) => (d === from ? to : d)) };
    const renamed = renameRefs(next, from, to);
    return JSON.stringify(renamed) === JSON.stringify(next) ? next : renamed;
  });
  const nodes: Record<string, XY> = {};
  for (const [id, pos] of Object.entries(doc.ui?.nodes ?? {})) nodes[id === from ? to : id] = pos;
  const final_result =
    doc.final_result === undefined ? undefined : renameRefs(doc.final_result, from, to);
  const out: WorkflowDefinition = { ...doc, steps, ui: { ...(doc.ui ?? {}), nodes } };
  if (final_result !== undefined) out.final_result = final_result;
  return out;
}

/**
 * Copies of `steps` with fresh unique ids; depends_on and references between
 * the copied steps follow the copies, those to other steps are kept.
 */
export function cloneSteps(
  doc: WorkflowDefinition,
  steps: StepDef[],
  positions: Record<string, XY>,
  offset: XY,
): { steps: StepDef[]; positions: Record<string, XY> } {
  const taken = new Set(doc.steps.map((s) => s.id));
  const mapping = new Map<string, string>();
  for (const s of steps) {
    const id = uniqueStepId(s.id.replace(/_copy(_\d+)?$/, "") + "_copy", taken);
    taken.add(id);
    mapping.set(s.id, id);
  }
  const out: StepDef[] = [];
  const outPos: Record<string, XY> = {};
  for (const s of steps) {
    let copy: StepDef = structuredClone(s);
    for (const [from, to] of mapping) copy = renameRefs(copy, from, to);
    copy.id = mapping.get(s.id)!;
    if (copy.depends_on) copy.depends_on = copy.depends_on.map((d) => mapping.get(d) ?? d);
    out.push(copy);
    const p = positions[s.id] ?? { x: 0, y: 0 };
    outPos[copy.id] = { x: p.x + offset.x, y: p.y + offset.y };
  }
  return { steps: out, positions: outPos };
}

export function setMeta(
  doc: WorkflowDefinition,
  patch: Partial<WorkflowDefinition>,
): WorkflowDefinition {
  const next = { ...doc, ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete next[k];
  return next;
}

export function setInput(
  doc: WorkflowDefinition,
  name: string,
  spec: InputSpec | null,
  rename?: string,
): WorkflowDefinition {
  const entries = Object.entries(doc.input_schema ?? {});
  const out: Record<string, InputSpec> = {};
  let found = false;
  for (const [k, v] of entries) {
    if (k === name) {
      found = true;
      if (spec) out[rename ?? k] = spec;
    } else out[k] = v;
  }
  if (!found && spec) out[rename ?? name] = spec;
  return { ...doc, input_schema: out };
}

/** A branch (`if_true`/`if_false`) or a loop body (`step`). */
export type Slot = "if_true" | "if_false" | "step";

/** The slots a step type has on the canvas. */
export function slotsOf(type: string): Slot[] {
  return type === "conditional" ? ["if_true", "if_false"] : type === "loop" ? ["step"] : [];
}

/**
 * Moves the top-level step `stepId` into `parent`'s `slot` (a conditional's branch
 * or a loop's body), as the inline spec the definition keeps there. An inline step
 * has no id or depends_on of its own: its dependencies become the parent's, and
 * steps that read or ran after it now read or run after the parent (whose result
 * is its branch's or its iterations'). Whatever the slot held before is replaced.
 */
export function moveIntoSlot(
  doc: WorkflowDefinition,
  parent: string,
  slot: Slot,
  stepId: string,
): WorkflowDefinition {
  const moved = doc.steps.find((s) => s.id === stepId);
  const host = doc.steps.find((s) => s.id === parent);
  if (!moved || !host || stepId === parent || !slotsOf(host.type).includes(slot)) return doc;
  const { id: _id, depends_on: movedDeps, ...spec } = moved;
  void _id;
  const steps: StepDef[] = [];
  for (const s of doc.steps) {
    if (s.id === stepId) continue;
    let next: StepDef = s;
    if (s.id === parent) {
      const deps = [...(s.depends_on ?? [])];
      for (const d of movedDeps ?? []) if (d !== parent && !deps.includes(d)) deps.push(d);
      next = { ...s, [slot]: spec };
      if (deps.length || s.depends_on) next.depends_on = deps;
    } else {
      if (next.depends_on?.includes(stepId)) {
        const deps: string[] = [];
        for (const d of next.depends_on) {
          const to = d === stepId ? parent : d;
          if (!deps.includes(to)) deps.push(to);
        }
        next = { ...next, depends_on: deps };
      }
      const renamed = renameRefs(next, stepId, parent);
      if (JSON.stringify(renamed) !== JSON.stringify(next)) next = renamed;
    }
    steps.push(next);
  }
  const nodes = { ...(doc.ui?.nodes ?? {}) };
  delete nodes[stepId];
  return { ...doc, steps, ui: { ...(doc.ui ?? {}), nodes } };
}

/** Puts a new inline spec (from the palette) into `parent`'s `slot`. */
export function setSlot(
  doc: WorkflowDefinition,
  parent: string,
  slot: Slot,
  spec: Record<string, unknown> | null,
): WorkflowDefinition {
  return {
    ...doc,
    steps: doc.steps.map((s) => {
      if (s.id !== parent) return s;
      const next: StepDef = { ...s };
      if (spec) next[slot] = spec;
      else delete next[slot];
      return next;
    }),
  };
}

/** Takes the spec out of `parent`'s `slot`: a top-level step again (a fresh id) at `position`. */
export function detachSlot(
  doc: WorkflowDefinition,
  parent: string,
  slot: Slot,
  position: XY,
): { doc: WorkflowDefinition; id: string | null } {
  const host = doc.steps.find((s) => s.id === parent);
  const spec = host?.[slot] as Record<string, unknown> | undefined;
  if (!host || !spec || typeof spec !== "object") return { doc, id: null };
  const hint = (spec.model as string) ?? (spec.function as string) ?? (spec.type as string);
  const id = uniqueStepId(
    hint ?? "step",
    doc.steps.map((s) => s.id),
  );
  const step = { ...spec, id } as StepDef;
  return {
    doc: addSteps(setSlot(doc, parent, slot, null), [step], { [id]: position }),
    id,
  };
}
