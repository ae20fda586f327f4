// Every attempt of a step: the list the step panel shows, and the bars the timeline
// draws (each attempt its own bar, the wait before the next one between them).

import type { AttemptRecord, ExecutionStepDetail, StepLive } from "./types";

function time(value: string | null | undefined): number {
  return value ? Date.parse(value) : NaN;
}

/**
 * The attempt running now or that ended the step without failing, from the live state:
 * only once it started after the last failed one (while a step waits to retry, its
 * start is still the failed attempt's).
 */
function currentAttempt(live: StepLive): AttemptRecord | null {
  const failed = live.failedAttempts ?? [];
  const last = failed[failed.length - 1];
  if (!live.startedAt || live.attempt <= 0) return null;
  if (last && last.attempt >= live.attempt) return null;
  const state =
    live.status === "running"
      ? "running"
      : live.status === "completed"
        ? "succeeded"
        : live.status === "cancelled"
          ? "cancelled"
          : null;
  if (!state) return null;
  const end = state === "running" ? null : live.completedAt;
  const start = time(live.startedAt);
  return {
    attempt: live.attempt,
    model: live.modelUsed || null,
    status: state,
    error_type: null,
    error_message: null,
    started_at: live.startedAt,
    finished_at: end,
    duration_seconds: end ? Math.max(0, (time(end) - start) / 1000) : null,
    wait_seconds: null,
    next_model: null,
  };
}

/**
 * The attempts the panel lists: the API's history when it knows at least as many failed
 * attempts as the socket said, else the live ones (the API is read again only now and
 * then while the step runs).
 */
export function attemptsOf(
  live: StepLive | undefined,
  fromApi: Pick<ExecutionStepDetail, "attempt_history"> | undefined,
): AttemptRecord[] {
  const api = fromApi?.attempt_history ?? [];
  const failed = live?.failedAttempts ?? [];
  const apiFailed = api.filter((a) => a.status === "failed" || a.status === "lost").length;
  const apiLast = api[api.length - 1]?.attempt ?? 0;
  if (!live || (apiFailed >= failed.length && apiLast >= live.attempt)) return api;
  const current = currentAttempt(live);
  return current ? [...failed, current] : [...failed];
}

export type SegmentKind = "attempt" | "failed" | "wait";

export interface AttemptSegment {
  kind: SegmentKind;
  /** The attempt the bar is, or (a wait) the attempt it waits after. */
  attempt: number;
  start: number;
  end: number;
  status: string;
  running: boolean;
  /** The tooltip's words. */
  text: string;
}

/**
 * A step's bars on the timeline: one per failed attempt, the wait after each one (to the
 * next attempt's start, or now while it still waits), then the attempt that runs or
 * ended the step. A step with one attempt is one bar, as before.
 */
export function attemptSegments(live: StepLive, now: number): AttemptSegment[] {
  const out: AttemptSegment[] = [];
  const failed = (live.failedAttempts ?? []).filter(
    (a) => !Number.isNaN(time(a.started_at)) && !Number.isNaN(time(a.finished_at)),
  );
  const current = currentAttempt(live);
  failed.forEach((a, i) => {
    const start = time(a.started_at);
    const end = Math.max(time(a.finished_at), start);
    const why = a.error_type ? ` · ${a.error_type}` : "";
    out.push({
      kind: "failed",
      attempt: a.attempt,
      start,
      end,
      status: "failed",
      running: false,
      text: `Attempt ${a.attempt}${a.model ? ` (${a.model})` : ""}: ${a.status}${why}`,
    });
    const next = failed[i + 1]?.started_at ?? (current ? current.started_at : null);
    const nextStart = time(next);
    const waitingNow = !next && live.status === "retrying";
    const waitEnd = !Number.isNaN(nextStart)
      ? nextStart
      : waitingNow
        ? now
        : end + (a.wait_seconds ?? 0) * 1000;
    if (waitEnd > end) {
      out.push({
        kind: "wait",
        attempt: a.attempt,
        start: end,
        end: waitEnd,
        status: "retrying",
        running: waitingNow,
        text: `Waiting${a.wait_seconds ? ` ${a.wait_seconds} s` : ""} before attempt ${a.attempt + 1}`,
      });
    }
  });
  if (current) {
    const start = time(current.started_at);
    out.push({
      kind: "attempt",
      attempt: current.attempt,
      start,
      end: Math.max(current.finished_at ? time(current.finished_at) : now, start),
      status: live.status,
      running: current.status === "running",
      text: `Attempt ${current.attempt}${current.model ? ` (${current.model})` : ""}: ${current.status}`,
    });
  }
  if (!out.length && live.startedAt) {
    // not an attempt of its own (a composite waiting for its steps), or no timed history
    const start = time(live.startedAt);
    if (!Number.isNaN(start)) {
      out.push({
        kind: "attempt",
        attempt: live.attempt,
        start,
        end: Math.max(live.completedAt ? time(live.completedAt) : now, start),
        status: live.status,
        running: !live.completedAt,
        text: "",
      });
    }
  }
  return out;
}
