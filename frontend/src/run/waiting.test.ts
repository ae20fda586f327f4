// Why a step waits: the server's reason, recomputed from the statuses the store has.

import { describe, expect, it } from "vitest";
import { barStyle } from "./Gantt";
import { applyEvent, applySnapshot, initialRunState, parseStepKey, type RunState } from "./reducer";
import { statusStyle } from "./status";
import type { EventMessage, SnapshotStep, WaitingReason } from "./types";
import { currentWaiting, dependenciesReason, slotsInUse, type WaitingInput } from "./waiting";

function step(
  key: string,
  status: SnapshotStep["status"],
  waiting: WaitingReason | null = null,
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
    waiting,
  };
}

function snap(steps: SnapshotStep[], status: "running" | "failed" = "running"): RunState {
  return applySnapshot(initialRunState, {
    kind: "snapshot",
    execution_id: "exec_1",
    workflow_id: "wf_1",
    status,
    last_seq: 10,
    created_at: null,
    started_at: null,
    completed_at: null,
    total_cost: 0,
    steps,
  });
}

let seq = 10;
function ev(state: RunState, type: string, key: string, payload: Record<string, unknown> = {}) {
  const message: EventMessage = {
    kind: "event",
    seq: ++seq,
    type,
    execution_id: "exec_1",
    workflow_id: "wf_1",
    step: key,
    payload: { status: type.split(".")[1], ...payload },
    at: "2026-12-02T12:00:00Z",
  };
  return applyEvent(state, message);
}

const plain = (key: string, dependsOn: string[] = [], extra: Partial<WaitingInput> = {}) => ({
  key,
  stepType: "data_processing",
  dependsOn,
  ...extra,
});

const message = (state: RunState, input: WaitingInput) => currentWaiting(state, input)?.message;

describe("a pending step's dependencies", () => {
  it("drop out of the message as they finish, without an event for the step", () => {
    let s = snap([
      step("clean", "running"),
      step("fetch", "queued"),
      step("merge", "pending", dependenciesReason(["fetch", "clean"])),
    ]);
    const merge = plain("merge", ["clean", "fetch"]);
    expect(message(s, merge)).toBe("Waiting for clean, fetch");
    s = ev(s, "step.completed", "clean");
    expect(currentWaiting(s, merge)).toEqual({
      reason: "dependencies",
      message: "Waiting for fetch",
      steps: ["fetch"],
    });
    s = ev(s, "step.running", "fetch");
    expect(message(s, merge)).toBe("Waiting for fetch");
    s = ev(s, "step.skipped", "fetch");
    expect(message(s, merge)).toBe("Waiting for its dependencies");
  });

  it("come from the definition when the server sent no reason", () => {
    const s = snap([step("a", "completed"), step("b", "running"), step("c", "pending")]);
    expect(message(s, plain("c", ["a", "b"]))).toBe("Waiting for b");
    // A step the store has not heard of yet is pending too.
    expect(message(s, plain("later", ["c"]))).toBe("Waiting for c");
  });

  it("of an iteration are the server's, shrinking the same way", () => {
    let s = snap([
      step("loop", "waiting"),
      step("loop[0]", "running"),
      step("loop[1]", "pending", dependenciesReason(["loop[0]"])),
    ]);
    const item = plain("loop[1]", ["ignored: only top-level steps use the definition"]);
    expect(message(s, item)).toBe("Waiting for loop[0]");
    s = ev(s, "step.completed", "loop[0]");
    expect(message(s, item)).toBe("Waiting for its dependencies");
  });

  it("name at most five steps", () => {
    const deps = ["f", "e", "d", "c", "b", "a", "g"];
    const s = snap([...deps.map((k) => step(k, "running")), step("z", "pending")]);
    expect(message(s, plain("z", deps))).toBe("Waiting for a, b, c, d, e and 2 more");
  });
});

describe("a ready step's parallel slots", () => {
  const slot = (inUse: number, limit: number): WaitingReason => ({
    reason: "slot",
    message: `Waiting for a parallel slot (${inUse} of ${limit} in use)`,
    in_use: inUse,
    limit,
  });

  it("count the leaf runs that are queued, running or retrying, as they change", () => {
    let s = snap([
      step("a", "running"),
      step("b", "queued"),
      step("c", "ready", slot(2, 2)),
      step("d", "completed"),
    ]);
    expect(slotsInUse(s)).toBe(2);
    expect(currentWaiting(s, plain("c"))).toEqual(slot(2, 2));
    s = ev(s, "step.completed", "a");
    expect(message(s, plain("c"))).toBe("Waiting for a parallel slot (1 of 2 in use)");
    s = ev(s, "step.retrying", "b", { waiting: null });
    expect(message(s, plain("c"))).toBe("Waiting for a parallel slot (1 of 2 in use)");
    s = ev(s, "step.failed", "b");
    expect(message(s, plain("c"))).toBe("Waiting for a parallel slot (0 of 2 in use)");
  });

  it("do not count a composite waiting for its steps, but do count its iterations", () => {
    const s = snap([
      step("loop", "waiting"),
      step("loop[0]", "running"),
      step("loop[1]", "retrying"),
      step("loop[2]", "ready"),
      step("other", "ready"),
    ]);
    expect(slotsInUse(s)).toBe(2);
    // No limit from the server: the execution's config, else the default of 10.
    expect(message(s, plain("other", [], { maxParallel: 3 }))).toBe(
      "Waiting for a parallel slot (2 of 3 in use)",
    );
    expect(message(s, plain("loop[2]"))).toBe("Waiting for a parallel slot (2 of 10 in use)");
  });

  it("take the limit from the server's reason first", () => {
    const s = snap([step("a", "running"), step("b", "ready", slot(1, 1))]);
    expect(message(s, plain("b", [], { maxParallel: 10 }))).toBe(
      "Waiting for a parallel slot (1 of 1 in use)",
    );
  });
});

describe("other reasons", () => {
  const queue: WaitingReason = {
    reason: "queue",
    message: "Queued on queue gpu: no live worker consumes it",
    queue: "gpu",
    consumers: 0,
  };

  it("are the server's for queued and retrying steps; none while running or finished", () => {
    let s = snap([step("g", "queued", queue), step("h", "completed")]);
    expect(currentWaiting(s, plain("g"))).toBe(s.steps.g.waiting);
    expect(currentWaiting(s, plain("h"))).toBeNull();
    s = ev(s, "step.running", "g");
    expect(s.steps.g.waiting).toBeNull();
    expect(currentWaiting(s, plain("g"))).toBeNull();
    const retry: WaitingReason = {
      reason: "retry",
      message: "Retrying at 12:00:05 (attempt 2 of 4; last error rate_limit: slow down)",
      at: "2026-12-02T12:00:05Z",
      attempt: 2,
      max_attempts: 4,
      last_error: "rate_limit: slow down",
    };
    s = ev(s, "step.retrying", "g", { waiting: retry });
    expect(currentWaiting(s, plain("g"))).toEqual(retry);
  });

  it("are none once the execution ended", () => {
    const s = snap([step("a", "failed"), step("b", "pending")], "failed");
    expect(currentWaiting(s, plain("b", ["a"]))).toBeNull();
  });

  it("of a composite count its children as they finish", () => {
    let s = snap([
      step("loop", "waiting", {
        reason: "children",
        message: "Waiting for its 3 iterations (0 done)",
        steps: ["loop[0]", "loop[1]", "loop[2]"],
      }),
      step("loop[0]", "running"),
      step("loop[1]", "running"),
      step("loop[2]", "ready"),
    ]);
    const loop = { key: "loop", stepType: "loop", dependsOn: [] };
    expect(message(s, loop)).toBe("Waiting for its 3 iterations (0 done)");
    s = ev(s, "step.completed", "loop[0]");
    expect(currentWaiting(s, loop)).toEqual({
      reason: "children",
      message: "Waiting for its 3 iterations (1 done)",
      steps: ["loop[1]", "loop[2]"],
    });
  });

  it("keep a stalled step's reason whatever its status", () => {
    const stalled: WaitingReason = {
      reason: "stalled",
      message: "Stalled: nothing is running, queued or due that could move b",
      steps: ["b"],
    };
    const s = snap([step("b", "ready", stalled)]);
    expect(currentWaiting(s, plain("b"))).toBe(s.steps.b.waiting);
  });
});

describe("the reducer", () => {
  it("keeps the reason a step.waiting event carries and marks the composite started", () => {
    let s = snap([step("loop", "pending", dependenciesReason(["a"]))]);
    const why = { reason: "children", message: "Waiting for its 2 iterations (0 done)", steps: [] };
    s = ev(s, "step.waiting", "loop", { waiting: why });
    expect(s.steps.loop.status).toBe("waiting");
    expect(s.steps.loop.waiting).toEqual(why);
    expect(s.steps.loop.startedAt).toBe("2026-12-02T12:00:00Z");
    expect(s.top).toEqual({ waiting: 1 });
    s = ev(s, "step.completed", "loop");
    expect(s.steps.loop.waiting).toBeNull();
  });

  it("keeps a step's identity when a new snapshot says the same thing", () => {
    const steps = () => [step("b", "pending", dependenciesReason(["a"])), step("a", "running")];
    const first = snap(steps());
    const again = applySnapshot(first, { ...snapshotOf(steps()), last_seq: 20 });
    expect(again.steps.b).toBe(first.steps.b);
    const changed = applySnapshot(
      first,
      snapshotOf([step("b", "pending", dependenciesReason([]))]),
    );
    expect(changed.steps.b).not.toBe(first.steps.b);
  });
});

function snapshotOf(steps: SnapshotStep[]) {
  return {
    kind: "snapshot" as const,
    execution_id: "exec_1",
    workflow_id: "wf_1",
    status: "running" as const,
    last_seq: 10,
    created_at: null,
    started_at: null,
    completed_at: null,
    total_cost: 0,
    steps,
  };
}

describe("the waiting status", () => {
  it("looks in progress, distinct from running, with its own label and a clock", () => {
    const waiting = statusStyle("waiting");
    const running = statusStyle("running");
    expect(waiting.label).toBe("Waiting for its steps");
    expect(waiting.short).toBe("Waiting");
    expect(waiting.icon).toBe("clock");
    expect(waiting.border).toContain("border-dashed");
    expect(waiting).not.toBe(statusStyle("pending"));
    for (const key of ["border", "badge", "dot", "hex"] as const) {
      expect(waiting[key]).not.toBe(running[key]);
    }
  });

  it("draws a dashed outline on the timeline", () => {
    expect(barStyle({ status: "waiting", running: true })).toMatchObject({
      borderType: "dashed",
      color: statusStyle("waiting").hex,
    });
    expect(barStyle({ status: "running", running: true })).not.toHaveProperty("borderType");
  });
});
