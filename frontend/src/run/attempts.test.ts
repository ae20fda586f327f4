import { describe, expect, it } from "vitest";
import { attemptSegments, attemptsOf } from "./attempts";
import { applyEvent, applySnapshot, initialRunState } from "./reducer";
import type { AttemptRecord, EventMessage, StepLive } from "./types";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function failed(attempt: number, start: number, end: number, wait: number): AttemptRecord {
  return {
    attempt,
    model: "gpt-4",
    status: "failed",
    error_type: "rate_limit",
    error_message: "429",
    started_at: at(start),
    finished_at: at(end),
    duration_seconds: end - start,
    wait_seconds: wait,
    next_model: null,
  };
}

function live(over: Partial<StepLive>): StepLive {
  return {
    key: "s",
    stepId: "s",
    iteration: null,
    status: "completed",
    attempt: 3,
    modelUsed: "gpt-4",
    errorType: "",
    errorMessage: "",
    cost: 0,
    startedAt: at(4),
    completedAt: at(5),
    waiting: null,
    failedAttempts: [failed(1, 0, 0.5, 1), failed(2, 1.5, 2, 2)],
    ...over,
  };
}

describe("attemptSegments", () => {
  it("draws each attempt as a bar and each wait between them", () => {
    const segments = attemptSegments(live({}), T0 + 10_000);
    expect(
      segments.map((s) => [s.kind, s.attempt, (s.start - T0) / 1000, (s.end - T0) / 1000]),
    ).toEqual([
      ["failed", 1, 0, 0.5],
      ["wait", 1, 0.5, 1.5],
      ["failed", 2, 1.5, 2],
      ["wait", 2, 2, 4],
      ["attempt", 3, 4, 5],
    ]);
  });

  it("while a step waits to retry, the wait grows to now and no bar repeats the failed one", () => {
    const step = live({
      status: "retrying",
      attempt: 2,
      startedAt: at(1.5),
      completedAt: null,
      failedAttempts: [failed(1, 0, 0.5, 1), failed(2, 1.5, 2, 2)],
    });
    const segments = attemptSegments(step, T0 + 3000);
    expect(segments.map((s) => s.kind)).toEqual(["failed", "wait", "failed", "wait"]);
    expect(segments[3]).toMatchObject({ running: true, end: T0 + 3000 });
  });

  it("a step with one attempt is one bar", () => {
    const segments = attemptSegments(live({ attempt: 1, failedAttempts: [] }), T0);
    expect(segments).toHaveLength(1);
    expect(segments[0]).toMatchObject({ kind: "attempt", status: "completed" });
  });
});

describe("attemptsOf", () => {
  it("prefers the live attempts while the API knows fewer", () => {
    const list = attemptsOf(live({ status: "running", completedAt: null }), {
      attempt_history: [failed(1, 0, 0.5, 1)],
    });
    expect(list.map((a) => [a.attempt, a.status])).toEqual([
      [1, "failed"],
      [2, "failed"],
      [3, "running"],
    ]);
  });
});

describe("the reducer", () => {
  it("adds each event's failed attempt once", () => {
    let state = applySnapshot(initialRunState, {
      kind: "snapshot",
      execution_id: "e",
      workflow_id: "w",
      status: "running",
      last_seq: 1,
      created_at: null,
      started_at: null,
      completed_at: null,
      total_cost: 0,
      steps: [
        {
          key: "s",
          step_id: "s",
          status: "running",
          attempt: 1,
          model_used: "gpt-4",
          error_type: "",
          cost: 0,
          started_at: at(0),
          completed_at: null,
        },
      ],
    });
    const event = (seq: number): EventMessage => ({
      kind: "event",
      seq,
      type: "step.retrying",
      execution_id: "e",
      workflow_id: "w",
      step: "s",
      payload: { status: "retrying", attempt: 1, failed_attempt: failed(1, 0, 0.5, 1) },
      at: at(0.5),
    });
    state = applyEvent(applyEvent(state, event(2)), event(3));
    expect(state.steps.s.failedAttempts?.map((a) => a.attempt)).toEqual([1]);
  });
});

describe("an empty result", () => {
  it("is remembered from the completed event, also across a reconnect's snapshot", () => {
    const snap = (status: "running" | "completed") => ({
      kind: "snapshot" as const,
      execution_id: "e",
      workflow_id: "w",
      status: "running" as const,
      last_seq: 1,
      created_at: null,
      started_at: null,
      completed_at: null,
      total_cost: 0,
      steps: [
        {
          key: "f",
          step_id: "f",
          status,
          attempt: 1,
          model_used: "",
          error_type: "",
          cost: 0,
          started_at: at(0),
          completed_at: status === "completed" ? at(1) : null,
        },
      ],
    });
    let state = applySnapshot(initialRunState, snap("running"));
    state = applyEvent(state, {
      kind: "event",
      seq: 2,
      type: "step.completed",
      execution_id: "e",
      workflow_id: "w",
      step: "f",
      payload: { status: "completed", empty_reason: "0 papers kept: relevance below 0.8" },
      at: at(1),
    });
    expect(state.steps.f.emptyReason).toBe("0 papers kept: relevance below 0.8");
    state = applySnapshot(state, { ...snap("completed"), last_seq: 2 });
    expect(state.steps.f.emptyReason).toBe("0 papers kept: relevance below 0.8");
  });
});
