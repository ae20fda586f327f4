// Why a step waits, as the run view shows it now. The server's reason (snapshot,
// `step.*` events) is the starting point; what changes without an event for the step
// is recomputed from the statuses the store has:
// - a pending step gets no event when one of its dependencies finishes: its
//   "Waiting for <steps>" drops those that finished;
// - a ready step's "n of N in use" follows the leaf runs that hold a slot (queued,
//   running, retrying; a composite waiting for its steps holds none);
// - a composite's "Waiting for its 3 iterations (1 done)" follows its children.
// The messages are worded as the server words them (executions/core/reasons.py).

import type { RunState, StatusCounts } from "./reducer";
import { EXECUTION_TERMINAL, STEP_TERMINAL, type StepStatus, type WaitingReason } from "./types";

/** The execution's `max_parallel_steps` when its config does not say. */
export const DEFAULT_MAX_PARALLEL = 10;

/** The statuses of runs that hold one of the execution's parallel slots. */
export const SLOT_HOLDING: readonly StepStatus[] = ["queued", "running", "retrying"];

/** "a, b, c" (at most `limit` names, then "and N more"). */
function names(keys: readonly string[], limit = 5): string {
  const shown = keys.slice(0, limit).join(", ");
  return keys.length > limit ? `${shown} and ${keys.length - limit} more` : shown;
}

export function dependenciesReason(steps: readonly string[]): WaitingReason {
  const sorted = [...steps].sort();
  return {
    reason: "dependencies",
    message: sorted.length ? `Waiting for ${names(sorted)}` : "Waiting for its dependencies",
    steps: sorted,
  };
}

export function slotReason(inUse: number, limit: number): WaitingReason {
  return {
    reason: "slot",
    message: `Waiting for a parallel slot (${inUse} of ${limit} in use)`,
    in_use: inUse,
    limit,
  };
}

export function childrenReason(
  open: readonly string[],
  total: number,
  done: number,
  stepType: string,
): WaitingReason {
  const noun = stepType === "loop" ? "iteration" : "branch step";
  return {
    reason: "children",
    message: `Waiting for its ${total} ${noun}${total === 1 ? "" : "s"} (${done} done)`,
    steps: [...open],
  };
}

/** Runs (top-level steps, iterations, branches) that hold a parallel slot now. */
export function slotsInUse(state: Pick<RunState, "top" | "children">): number {
  const count = (counts: StatusCounts) => SLOT_HOLDING.reduce((n, s) => n + (counts[s] ?? 0), 0);
  let inUse = count(state.top);
  for (const counts of Object.values(state.children)) inUse += count(counts);
  return inUse;
}

export interface WaitingInput {
  /** The step run's key: a top-level step id, "loop[2]", "cond.if_true". */
  key: string;
  /** The step's type ("loop", "conditional", …). */
  stepType: string;
  /** The steps it depends on, from the definition (top-level steps only). */
  dependsOn: readonly string[];
  /** The execution's `max_parallel_steps`, when known. */
  maxParallel?: number | null;
  /** The known number of a loop's iterations (from the detail API). */
  knownChildren?: number;
}

type WaitingState = Pick<RunState, "status" | "steps" | "top" | "children">;

const isOpen = (state: WaitingState, key: string) =>
  !STEP_TERMINAL.has(state.steps[key]?.status ?? "pending");

/**
 * Why the step waits now, or null while it runs or once it (or the run) finished.
 * A step the store has not heard of is pending.
 */
export function currentWaiting(state: WaitingState, input: WaitingInput): WaitingReason | null {
  if (state.status && EXECUTION_TERMINAL.has(state.status)) return null;
  const run = state.steps[input.key];
  const status = run?.status ?? "pending";
  if (status === "running" || STEP_TERMINAL.has(status)) return null;
  const server = run?.waiting ?? null;
  if (server?.reason === "stalled") return server;
  switch (status) {
    case "pending": {
      const topLevel = !run || run.key === run.stepId;
      const base =
        server?.reason === "dependencies" ? server.steps : topLevel ? input.dependsOn : null;
      if (!base) return server;
      return dependenciesReason(base.filter((key) => isOpen(state, key)));
    }
    case "ready": {
      const limit =
        (server?.reason === "slot" ? server.limit : null) ??
        input.maxParallel ??
        DEFAULT_MAX_PARALLEL;
      return slotReason(slotsInUse(state), limit);
    }
    case "waiting": {
      const counts = state.children[run?.stepId ?? input.key] ?? {};
      const seen = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
      let done = 0;
      for (const s of STEP_TERMINAL) done += counts[s as StepStatus] ?? 0;
      const listed = server?.reason === "children" ? server.steps : [];
      const open = listed.filter((key) => isOpen(state, key));
      const total = Math.max(seen, listed.length, input.knownChildren ?? 0);
      if (!total) return server;
      return childrenReason(open, total, Math.min(done, total), input.stepType);
    }
    default: // queued, retrying: the server knows the queue, its workers, the retry time
      return server;
  }
}
