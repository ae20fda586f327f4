// The live state of one execution, as a pure reducer over the websocket's messages.
//
// Rules (docs/events.md):
// - a snapshot replaces everything and reflects every event up to its last_seq;
// - events carry a per-execution seq: one at or below the last seq applied is a
//   duplicate (or arrived out of order after a newer one) and is ignored;
// - a step that reached a terminal status never moves back (the engine guarantees
//   it; a snapshot may be slightly newer than its last_seq, and the events after it
//   are then older news for some steps).
//
// Only the objects that change get new identities: `steps[key]` of the step an
// event names, `children[parent]` of its parent, and the counters. Each run node
// subscribes to its own slice, so a burst of events re-renders only the nodes
// whose step changed.

import {
  type AttemptRecord,
  EXECUTION_TERMINAL,
  type ExecutionDetail,
  STEP_TERMINAL,
  type EventMessage,
  type ExecutionError,
  type ExecutionStatus,
  type ServerMessage,
  type SnapshotMessage,
  type SnapshotStep,
  type StepLive,
  type StepStatus,
  type WaitingReason,
} from "./types";

/** Counts of step runs by status. */
export type StatusCounts = Partial<Record<StepStatus, number>>;

export interface RunState {
  /** False until the first snapshot has been applied. */
  ready: boolean;
  executionId: string | null;
  status: ExecutionStatus | null;
  /** The highest seq applied (the snapshot's last_seq or a later event's). */
  lastSeq: number;
  createdAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
  /** The execution's total cost as the server last reported it. */
  totalCost: number;
  error: ExecutionError | null;
  resumedFrom: string | null;
  /** Every step run by key: "summary", "loop[3]", "cond.if_true". */
  steps: Record<string, StepLive>;
  /** Children (loop iterations, branches) of each composite step: counts by status. */
  children: Record<string, StatusCounts>;
  /** Top-level steps by status (the progress bar). */
  top: StatusCounts;
  /** Sum of every step run's cost (the cost so far while running). */
  stepCost: number;
  /** Events ignored as duplicates or out of order (for diagnostics and tests). */
  ignored: number;
}

export const initialRunState: RunState = {
  ready: false,
  executionId: null,
  status: null,
  lastSeq: 0,
  createdAt: null,
  startedAt: null,
  completedAt: null,
  totalCost: 0,
  error: null,
  resumedFrom: null,
  steps: {},
  children: {},
  top: {},
  stepCost: 0,
  ignored: 0,
};

const ITERATION_KEY = /^(.+)\[(\d+)\]$/;
const BRANCH_KEY = /^(.+)\.(if_true|if_false)$/;

/** The step id and loop iteration a step run key names ("loop[3]" → loop, 3). */
export function parseStepKey(key: string): { stepId: string; iteration: number | null } {
  const iteration = ITERATION_KEY.exec(key);
  if (iteration) return { stepId: iteration[1], iteration: Number(iteration[2]) };
  const branch = BRANCH_KEY.exec(key);
  if (branch) return { stepId: branch[1], iteration: null };
  return { stepId: key, iteration: null };
}

/** Whether the run is a child (loop iteration or branch) of a composite step. */
export function isChild(step: Pick<StepLive, "key" | "stepId">): boolean {
  return step.key !== step.stepId;
}

function bump(counts: StatusCounts, status: StepStatus, delta: number): StatusCounts {
  const next = { ...counts, [status]: (counts[status] ?? 0) + delta };
  if (!next[status]) delete next[status];
  return next;
}

function fromSnapshotStep(s: SnapshotStep): StepLive {
  const parsed = parseStepKey(s.key);
  return {
    key: s.key,
    stepId: s.step_id || parsed.stepId,
    iteration: parsed.iteration,
    status: s.status,
    attempt: s.attempt ?? 0,
    modelUsed: s.model_used ?? "",
    errorType: s.error_type ?? "",
    errorMessage: "",
    cost: Number(s.cost) || 0,
    startedAt: s.started_at,
    completedAt: s.completed_at,
    waiting: asReason(s.waiting),
    failedAttempts: (s.attempt_history ?? []).filter(endedWithoutResult),
  };
}

function endedWithoutResult(a: AttemptRecord): boolean {
  return a.status === "failed" || a.status === "lost";
}

function asAttempt(value: unknown): AttemptRecord | null {
  return value && typeof value === "object" && typeof (value as AttemptRecord).attempt === "number"
    ? (value as AttemptRecord)
    : null;
}

export function applySnapshot(state: RunState, snap: SnapshotMessage): RunState {
  const steps: Record<string, StepLive> = {};
  const children: Record<string, StatusCounts> = {};
  const top: StatusCounts = {};
  let stepCost = 0;
  for (const raw of snap.steps) {
    const step = fromSnapshotStep(raw);
    // Keep the identity of unchanged steps (a reconnect's snapshot re-renders nothing
    // that did not change while we were away).
    const before = state.steps[step.key];
    // (the snapshot does not read results: what an event said of an empty one stays)
    if (before?.emptyReason && step.status === "completed") step.emptyReason = before.emptyReason;
    steps[step.key] = before && sameStep(before, step) ? before : step;
    stepCost += step.cost;
    if (isChild(step)) {
      const c = (children[step.stepId] ??= {});
      c[step.status] = (c[step.status] ?? 0) + 1;
    } else {
      top[step.status] = (top[step.status] ?? 0) + 1;
    }
  }
  for (const [parent, counts] of Object.entries(children)) {
    const before = state.children[parent];
    if (before && sameCounts(before, counts)) children[parent] = before;
  }
  return {
    ...state,
    ready: true,
    executionId: snap.execution_id,
    status: snap.status,
    // A reconnect's snapshot reflects at least every event we had; the replay after it
    // up to its last_seq is then old news and is dropped as duplicates.
    lastSeq: Math.max(state.lastSeq, snap.last_seq),
    createdAt: snap.created_at,
    startedAt: snap.started_at,
    completedAt: snap.completed_at,
    totalCost: Number(snap.total_cost) || 0,
    steps,
    children,
    top: sameCounts(state.top, top) ? state.top : top,
    stepCost,
  };
}

function sameStep(a: StepLive, b: StepLive): boolean {
  return (
    a.status === b.status &&
    a.attempt === b.attempt &&
    a.modelUsed === b.modelUsed &&
    a.errorType === b.errorType &&
    a.cost === b.cost &&
    a.startedAt === b.startedAt &&
    a.completedAt === b.completedAt &&
    (a.failedAttempts?.length ?? 0) === (b.failedAttempts?.length ?? 0) &&
    a.emptyReason === b.emptyReason &&
    sameWaiting(a.waiting, b.waiting)
  );
}

/** Whether two reasons say the same (the server sends a new object each time). */
export function sameWaiting(a: WaitingReason | null, b: WaitingReason | null): boolean {
  return a === b || (!!a && !!b && JSON.stringify(a) === JSON.stringify(b));
}

function sameCounts(a: StatusCounts, b: StatusCounts): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k as StepStatus] === b[k as StepStatus]);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function asReason(value: unknown): WaitingReason | null {
  return value && typeof value === "object" && typeof (value as WaitingReason).message === "string"
    ? (value as WaitingReason)
    : null;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function applyStepEvent(state: RunState, ev: EventMessage): RunState {
  const key = ev.step as string;
  const p = ev.payload ?? {};
  const status = str(p.status) as StepStatus | undefined;
  const before = state.steps[key];
  const parsed = parseStepKey(key);
  const prev: StepLive = before ?? {
    key,
    stepId: parsed.stepId,
    iteration: parsed.iteration,
    status: "pending",
    attempt: 0,
    modelUsed: "",
    errorType: "",
    errorMessage: "",
    cost: 0,
    startedAt: null,
    completedAt: null,
    waiting: null,
  };
  // A finished step never moves back: a late event is older news.
  if (before && STEP_TERMINAL.has(before.status) && status && !STEP_TERMINAL.has(status)) {
    return state;
  }
  const next: StepLive = { ...prev };
  if (status) next.status = status;
  const attempt = num(p.attempt);
  if (attempt !== undefined) next.attempt = attempt;
  const model = str(p.model_used);
  if (model) next.modelUsed = model;
  const cost = num(p.cost);
  if (cost !== undefined) next.cost = cost;
  if (ev.type === "step.running") {
    next.startedAt = ev.at ?? next.startedAt;
    next.completedAt = null;
  }
  // A composite starts by waiting for its children: that is its start.
  if (ev.type === "step.waiting" && !next.startedAt) next.startedAt = ev.at;
  // The event says why the step now waits; a status change without a reason (running,
  // finished) ends the old one.
  if (p.waiting !== undefined) next.waiting = asReason(p.waiting);
  else if (status) next.waiting = null;
  if (
    ev.type === "step.retrying" ||
    ev.type === "step.failed" ||
    ev.type === "step.skipped" ||
    ev.type === "step.cancelled"
  ) {
    next.errorType = str(p.error_type) ?? next.errorType;
    next.errorMessage = str(p.error_message) ?? next.errorMessage;
  }
  // The attempt that just ended (retrying, fallback, failed, a lost worker): once each.
  const ended = asAttempt(p.failed_attempt);
  if (ended && !(prev.failedAttempts ?? []).some((a) => a.attempt === ended.attempt)) {
    next.failedAttempts = [...(prev.failedAttempts ?? []), ended];
  }
  if (ev.type === "step.completed") {
    const empty = str(p.empty_reason);
    if (empty) next.emptyReason = empty;
    next.errorType = "";
    next.errorMessage = "";
  }
  if (status && STEP_TERMINAL.has(status) && !STEP_TERMINAL.has(prev.status)) {
    next.completedAt = ev.at ?? next.completedAt;
  }
  if (before && sameStep(before, next) && before.errorMessage === next.errorMessage) return state;

  let { children, top } = state;
  if (!before || before.status !== next.status) {
    if (isChild(next)) {
      let counts = children[next.stepId] ?? {};
      if (before) counts = bump(counts, before.status, -1);
      counts = bump(counts, next.status, 1);
      children = { ...children, [next.stepId]: counts };
    } else {
      if (before) top = bump(top, before.status, -1);
      top = bump(top, next.status, 1);
    }
  }
  return {
    ...state,
    steps: { ...state.steps, [key]: next },
    children,
    top,
    stepCost: state.stepCost - prev.cost + next.cost,
  };
}

function applyExecutionEvent(state: RunState, ev: EventMessage): RunState {
  const p = ev.payload ?? {};
  const status = str(p.status) as ExecutionStatus | undefined;
  if (
    state.status &&
    EXECUTION_TERMINAL.has(state.status) &&
    status &&
    !EXECUTION_TERMINAL.has(status)
  ) {
    return state;
  }
  const next: RunState = { ...state };
  if (status) next.status = status;
  const cost = num(p.total_cost);
  if (cost !== undefined) next.totalCost = cost;
  if (ev.type === "execution.started") {
    next.startedAt = state.startedAt ?? ev.at;
    next.resumedFrom = str(p.resumed_from) ?? state.resumedFrom;
  }
  if (status && EXECUTION_TERMINAL.has(status)) {
    next.completedAt = state.completedAt ?? ev.at;
    if (p.error && typeof p.error === "object") next.error = p.error as ExecutionError;
  }
  return next;
}

/** Apply one event; duplicates and events older than the last applied are ignored. */
export function applyEvent(state: RunState, ev: EventMessage): RunState {
  if (!state.ready || ev.seq <= state.lastSeq) {
    return { ...state, ignored: state.ignored + 1 };
  }
  // The server never skips a seq on one connection (it fills gaps from the database);
  // should one be skipped anyway, the newer event is still the newer state.
  const applied = ev.step ? applyStepEvent(state, ev) : applyExecutionEvent(state, ev);
  return { ...applied, lastSeq: ev.seq };
}

/** Apply a batch of server messages in arrival order. */
export function applyMessages(state: RunState, messages: readonly ServerMessage[]): RunState {
  let next = state;
  for (const message of messages) {
    if (message.kind === "snapshot") next = applySnapshot(next, message);
    else if (message.kind === "event") next = applyEvent(next, message);
  }
  return next;
}

// --- derived values ---------------------------------------------------------------

export interface LoopSummary {
  total: number;
  done: number;
  running: number;
  failed: number;
  /** Not yet started (pending, ready, queued). */
  waiting: number;
  skipped: number;
  cancelled: number;
}

/**
 * The summary a loop node shows of its iterations. `knownTotal` is the API's count of
 * iterations when known (a sequential loop's later iterations send no event until
 * their turn).
 */
export function loopSummary(counts: StatusCounts | undefined, knownTotal?: number): LoopSummary {
  const c = counts ?? {};
  const n = (s: StepStatus) => c[s] ?? 0;
  const seen = Object.values(c).reduce((a, b) => a + (b ?? 0), 0);
  const total = Math.max(seen, knownTotal ?? 0);
  return {
    total,
    done: n("completed"),
    // A nested composite waiting for its own steps is in progress too.
    running: n("running") + n("retrying") + n("waiting"),
    failed: n("failed"),
    skipped: n("skipped"),
    cancelled: n("cancelled"),
    waiting: n("pending") + n("ready") + n("queued") + (total - seen),
  };
}

/** Share (0..1) of top-level steps that finished (completed, failed, skipped, cancelled). */
export function progressOf(state: Pick<RunState, "top" | "status">): number {
  const total = Object.values(state.top).reduce((a, b) => a + (b ?? 0), 0);
  if (!total) return state.status === "completed" ? 1 : 0;
  let done = 0;
  for (const s of STEP_TERMINAL) done += state.top[s as StepStatus] ?? 0;
  return done / total;
}

/**
 * A stand-in snapshot from the REST detail (top-level steps only, `last_seq` 0), shown
 * while the websocket cannot connect. The socket's first snapshot replaces it.
 */
export function snapshotFromDetail(detail: ExecutionDetail): SnapshotMessage {
  return {
    kind: "snapshot",
    execution_id: detail.execution_id,
    workflow_id: detail.workflow_id,
    status: detail.status,
    last_seq: 0,
    created_at: null,
    started_at: detail.started_at,
    completed_at: detail.completed_at,
    total_cost: detail.total_cost,
    steps: detail.steps.map((s) => ({
      key: s.id,
      step_id: s.id,
      status: s.status,
      attempt: s.attempts,
      model_used: s.model_used ?? "",
      error_type: s.error?.type ?? "",
      cost: s.cost,
      started_at: s.started_at,
      completed_at: s.completed_at,
      waiting: s.waiting ?? null,
      attempt_history: s.attempt_history,
    })),
  };
}
