// Pure graph helpers over the definition: dependencies and cycle checks.
import { referencedSteps } from "./references";
import type { StepDef } from "./types";

/** `{stepId: ids it waits for}`: depends_on plus every referenced step. */
export function dependencies(steps: StepDef[]): Map<string, Set<string>> {
  const deps = new Map<string, Set<string>>();
  for (const step of steps) {
    if (deps.has(step.id)) continue;
    deps.set(step.id, new Set([...(step.depends_on ?? []), ...referencedSteps(step)]));
  }
  return deps;
}

/** Whether `start` (transitively) waits for `from`. */
function waitsOnTransitively(deps: Map<string, Set<string>>, start: string, from: string): boolean {
  const stack = [start];
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (id === from) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const d of deps.get(id) ?? []) stack.push(d);
  }
  return false;
}

/**
 * Whether adding the edge source → target (target waits for source) would make
 * a cycle: true when source already (transitively) waits for target, or they
 * are the same step.
 */
export function wouldCreateCycle(
  deps: Map<string, Set<string>>,
  source: string,
  target: string,
): boolean {
  if (source === target) return true;
  return waitsOnTransitively(deps, source, target);
}

/** One cycle as a path of ids (first repeated at the end), or null. */
export function findCycle(deps: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, 1 | 2>();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    state.set(id, 1);
    path.push(id);
    for (const d of deps.get(id) ?? []) {
      if (!deps.has(d)) continue;
      const s = state.get(d);
      if (s === 1) return [...path.slice(path.indexOf(d)), d];
      if (s === undefined) {
        const found = visit(d);
        if (found) return found;
      }
    }
    path.pop();
    state.set(id, 2);
    return null;
  };
  for (const id of deps.keys()) {
    if (!state.has(id)) {
      const found = visit(id);
      if (found) return found;
    }
  }
  return null;
}

/** Ids of every step that (transitively) waits for `id`. */
export function downstreamOf(deps: Map<string, Set<string>>, id: string): Set<string> {
  const dependents = new Map<string, string[]>();
  for (const [step, on] of deps)
    for (const d of on) dependents.set(d, [...(dependents.get(d) ?? []), step]);
  const out = new Set<string>();
  const stack = [id];
  while (stack.length) {
    const cur = stack.pop()!;
    for (const next of dependents.get(cur) ?? []) {
      if (!out.has(next)) {
        out.add(next);
        stack.push(next);
      }
    }
  }
  return out;
}

/** Ids of every step `id` (transitively) waits for. */
export function upstreamOf(deps: Map<string, Set<string>>, id: string): Set<string> {
  const out = new Set<string>();
  const stack = [...(deps.get(id) ?? [])];
  while (stack.length) {
    const cur = stack.pop()!;
    if (out.has(cur) || !deps.has(cur)) continue;
    out.add(cur);
    stack.push(...(deps.get(cur) ?? []));
  }
  return out;
}
