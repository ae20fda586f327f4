import { describe, expect, it } from "vitest";
import {
  applyEvent,
  applyMessages,
  applySnapshot,
  initialRunState,
  loopSummary,
  parseStepKey,
  progressOf,
  snapshotFromDetail,
  type RunState,
} from "./reducer";
import { createRunStore } from "./store";
import type { EventMessage, SnapshotMessage, SnapshotStep } from "./types";

function step(
  key: string,
  status: SnapshotStep["status"],
  extra: Partial<SnapshotStep> = {},
): SnapshotStep {
  return {
    key,
    step_id: parseStepKey(key).stepId,
    status,
    attempt: 0,
    model_used: "",
    error_type: "",
    cost: 0,
    started_at: null,
    completed_at: null,
    ...extra,
  };
}

function snapshot(
  lastSeq: number,
  steps: SnapshotStep[],
  status: SnapshotMessage["status"] = "running",
): SnapshotMessage {
  return {
    kind: "snapshot",
    execution_id: "exec_1",
    workflow_id: "wf_1",
    status,
    last_seq: lastSeq,
    created_at: "2026-01-01T00:00:00+00:00",
    started_at: "2026-01-01T00:00:00+00:00",
    completed_at: null,
    total_cost: 0,
    steps,
  };
}

function ev(
  seq: number,
  type: string,
  stepKey: string | null,
  payload: Record<string, unknown> = {},
): EventMessage {
  const status = type.split(".")[1];
  return {
    kind: "event",
    seq,
    type,
    execution_id: "exec_1",
    workflow_id: "wf_1",
    step: stepKey,
    payload: { status, ...payload },
    at: `2026-01-01T00:00:${String(seq).padStart(2, "0")}+00:00`,
  };
}

const twoSteps = () => snapshot(2, [step("a", "queued"), step("b", "pending")]);

describe("applySnapshot", () => {
  it("replaces the state and marks it ready", () => {
    const s = applySnapshot(initialRunState, twoSteps());
    expect(s.ready).toBe(true);
    expect(s.lastSeq).toBe(2);
    expect(s.status).toBe("running");
    expect(Object.keys(s.steps)).toEqual(["a", "b"]);
    expect(s.top).toEqual({ queued: 1, pending: 1 });
  });

  it("keeps the identity of steps that did not change (a reconnect re-renders nothing else)", () => {
    const first = applySnapshot(initialRunState, twoSteps());
    const again = applySnapshot(first, snapshot(3, [step("a", "running"), step("b", "pending")]));
    expect(again.steps.b).toBe(first.steps.b);
    expect(again.steps.a).not.toBe(first.steps.a);
  });
});

describe("applyEvent", () => {
  it("applies events in seq order and tracks the last seq", () => {
    let s = applySnapshot(initialRunState, twoSteps());
    s = applyEvent(s, ev(3, "step.running", "a", { attempt: 1 }));
    s = applyEvent(
      s,
      ev(4, "step.completed", "a", { attempt: 1, cost: 0.25, model_used: "builtin/x" }),
    );
    expect(s.lastSeq).toBe(4);
    expect(s.steps.a.status).toBe("completed");
    expect(s.steps.a.cost).toBe(0.25);
    expect(s.steps.a.modelUsed).toBe("builtin/x");
    expect(s.steps.a.startedAt).toBe("2026-01-01T00:00:03+00:00");
    expect(s.steps.a.completedAt).toBe("2026-01-01T00:00:04+00:00");
    expect(s.stepCost).toBe(0.25);
    expect(s.top).toEqual({ completed: 1, pending: 1 });
  });

  it("ignores duplicates and events older than the last applied", () => {
    let s = applySnapshot(initialRunState, twoSteps());
    s = applyEvent(s, ev(3, "step.running", "a"));
    s = applyEvent(s, ev(4, "step.completed", "a"));
    const before = s;
    s = applyEvent(s, ev(4, "step.completed", "a")); // duplicate
    s = applyEvent(s, ev(3, "step.running", "a")); // out of order
    s = applyEvent(s, ev(2, "step.queued", "b")); // already in the snapshot
    expect(s.steps).toBe(before.steps);
    expect(s.steps.a.status).toBe("completed");
    expect(s.steps.b.status).toBe("pending");
    expect(s.lastSeq).toBe(4);
    expect(s.ignored).toBe(3);
  });

  it("changes only the step an event names (other steps keep their identity)", () => {
    const s0 = applySnapshot(initialRunState, twoSteps());
    const s1 = applyEvent(s0, ev(3, "step.running", "a"));
    expect(s1.steps.b).toBe(s0.steps.b);
    expect(s1.steps.a).not.toBe(s0.steps.a);
  });

  it("never moves a finished step back", () => {
    // A snapshot may be newer than its last_seq: "a" is already completed at seq 2.
    let s = applySnapshot(
      initialRunState,
      snapshot(2, [step("a", "completed"), step("b", "pending")]),
    );
    s = applyEvent(s, ev(3, "step.running", "a"));
    expect(s.steps.a.status).toBe("completed");
    expect(s.lastSeq).toBe(3);
  });

  it("records errors and the execution's end", () => {
    let s = applySnapshot(initialRunState, twoSteps());
    s = applyEvent(
      s,
      ev(3, "step.failed", "a", { error_type: "timeout", error_message: "too slow" }),
    );
    s = applyEvent(
      s,
      ev(4, "execution.failed", null, {
        total_cost: 1.5,
        error: { type: "timeout", message: "too slow", step: "a" },
      }),
    );
    expect(s.steps.a.errorType).toBe("timeout");
    expect(s.steps.a.errorMessage).toBe("too slow");
    expect(s.status).toBe("failed");
    expect(s.totalCost).toBe(1.5);
    expect(s.error).toEqual({ type: "timeout", message: "too slow", step: "a" });
    expect(s.completedAt).toBe("2026-01-01T00:00:04+00:00");
  });

  it("ignores events before the first snapshot", () => {
    const s = applyEvent(initialRunState, ev(1, "step.queued", "a"));
    expect(s.steps).toEqual({});
    expect(s.lastSeq).toBe(0);
  });
});

describe("reconnecting", () => {
  it("a fresh snapshot after a reconnect drops the replay it already reflects", () => {
    let s = applyMessages(initialRunState, [twoSteps(), ev(3, "step.running", "a")]);
    // Connection dropped at seq 3; the client reconnects with ?after=3. Meanwhile
    // a completed (4) and b was queued (5). The snapshot reflects up to 5, then the
    // server replays 4 and 5, then streams 6.
    s = applyMessages(s, [
      snapshot(5, [step("a", "completed", { cost: 0.5 }), step("b", "queued")]),
      ev(4, "step.completed", "a"),
      ev(5, "step.queued", "b"),
      ev(6, "step.running", "b"),
    ]);
    expect(s.lastSeq).toBe(6);
    expect(s.steps.a.status).toBe("completed");
    expect(s.steps.b.status).toBe("running");
    expect(s.ignored).toBe(2);
    expect(s.stepCost).toBe(0.5);
  });

  it("an execution that finished while away shows its end", () => {
    let s = applyMessages(initialRunState, [twoSteps()]);
    s = applyMessages(s, [
      snapshot(9, [step("a", "completed"), step("b", "completed")], "completed"),
    ]);
    expect(s.status).toBe("completed");
    expect(progressOf(s)).toBe(1);
  });
});

describe("loops", () => {
  it("counts iterations by status on their loop and not as top-level steps", () => {
    let s = applySnapshot(
      initialRunState,
      snapshot(3, [
        step("loop", "waiting"),
        step("loop[0]", "running"),
        step("loop[1]", "ready"),
        step("loop[2]", "ready"),
      ]),
    );
    expect(s.children.loop).toEqual({ running: 1, ready: 2 });
    expect(s.top).toEqual({ waiting: 1 });
    const topBefore = s.top;
    s = applyEvent(s, ev(4, "step.completed", "loop[0]"));
    s = applyEvent(s, ev(5, "step.queued", "loop[1]"));
    s = applyEvent(s, ev(6, "step.running", "loop[1]"));
    s = applyEvent(s, ev(7, "step.failed", "loop[1]", { error_type: "execution_error" }));
    // An iteration the snapshot did not list (created after it) is added on its first event.
    s = applyEvent(s, ev(8, "step.queued", "loop[3]"));
    expect(s.children.loop).toEqual({ completed: 1, failed: 1, ready: 1, queued: 1 });
    expect(s.top).toBe(topBefore);
    expect(s.steps["loop[3]"].stepId).toBe("loop");
    expect(s.steps["loop[3]"].iteration).toBe(3);
  });

  it("summarises iterations as done / running / failed / waiting", () => {
    expect(
      loopSummary({ completed: 3, running: 1, retrying: 1, failed: 2, ready: 1, queued: 1 }),
    ).toEqual({
      total: 9,
      done: 3,
      running: 2,
      failed: 2,
      skipped: 0,
      cancelled: 0,
      waiting: 2,
    });
    // A nested composite waiting for its own steps is in progress.
    expect(loopSummary({ waiting: 1, completed: 1 })).toMatchObject({ running: 1, waiting: 0 });
    // The API knows of 10 iterations; 9 have been seen.
    expect(loopSummary({ completed: 9 }, 10)).toMatchObject({ total: 10, done: 9, waiting: 1 });
    expect(loopSummary(undefined)).toMatchObject({ total: 0, done: 0 });
  });

  it("parses step run keys", () => {
    expect(parseStepKey("loop[12]")).toEqual({ stepId: "loop", iteration: 12 });
    expect(parseStepKey("cond.if_false")).toEqual({ stepId: "cond", iteration: null });
    expect(parseStepKey("plain")).toEqual({ stepId: "plain", iteration: null });
  });
});

describe("progress", () => {
  it("is the share of finished top-level steps", () => {
    const s: Pick<RunState, "top" | "status"> = {
      top: { completed: 2, failed: 1, running: 1 },
      status: "running",
    };
    expect(progressOf(s)).toBe(0.75);
  });
});

describe("falling back to the REST detail", () => {
  it("shows the detail until the socket's snapshot replaces it", () => {
    const store = createRunStore();
    const detail = {
      execution_id: "exec_1",
      workflow_id: "wf_1",
      status: "running",
      started_at: "2026-01-01T00:00:00+00:00",
      completed_at: null,
      total_cost: 0.5,
      steps: [
        {
          id: "a",
          status: "completed",
          attempts: 1,
          model_used: "m",
          error: null,
          cost: 0.5,
          started_at: null,
          completed_at: null,
        },
        {
          id: "b",
          status: "running",
          attempts: 1,
          model_used: null,
          error: null,
          cost: 0,
          started_at: null,
          completed_at: null,
        },
      ],
    } as unknown as Parameters<typeof snapshotFromDetail>[0];
    store.getState().receiveFallback(snapshotFromDetail(detail));
    expect(store.getState().fallback).toBe(true);
    expect(store.getState().steps.a.status).toBe("completed");
    expect(store.getState().lastSeq).toBe(0);
    store.getState().receive([snapshot(4, [step("a", "completed"), step("b", "completed")])]);
    expect(store.getState().fallback).toBe(false);
    expect(store.getState().steps.b.status).toBe("completed");
    // Once live, a late fallback no longer applies.
    store.getState().receiveFallback(snapshotFromDetail(detail));
    expect(store.getState().steps.b.status).toBe("completed");
    expect(store.getState().lastSeq).toBe(4);
  });
});
