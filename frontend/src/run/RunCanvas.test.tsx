// A burst of status events re-renders only the nodes whose step changed.

import { act, render, waitFor } from "@testing-library/react";
import { beforeAll, describe, expect, it } from "vitest";
import { definitionGraph } from "./graph";
import { RunCanvas } from "./RunCanvas";
import { createRunStore, RunStoreContext } from "./store";
import type { Definition, EventMessage, ServerMessage, SnapshotStep, WaitingReason } from "./types";

beforeAll(() => {
  // jsdom lacks the layout APIs React Flow measures with.
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
  (globalThis as { DOMMatrixReadOnly?: unknown }).DOMMatrixReadOnly ??= class {
    m22 = 1;
    constructor() {}
  };
});

const N = 30;
const definition: Definition = {
  name: "wide",
  steps: Array.from({ length: N }, (_, i) => ({
    id: `s${i}`,
    type: "data_processing",
    function: "noop",
  })),
  ui: {
    nodes: Object.fromEntries(Array.from({ length: N }, (_, i) => [`s${i}`, { x: i * 240, y: 0 }])),
  },
};

function ev(seq: number, step: string, status: string): EventMessage {
  return {
    kind: "event",
    seq,
    type: `step.${status}`,
    execution_id: "e",
    workflow_id: "w",
    step,
    payload: { status },
    at: null,
  };
}

describe("RunCanvas", () => {
  it("re-renders only the nodes an event burst touched", async () => {
    const store = createRunStore();
    const graph = definitionGraph(definition);
    const snapshot: ServerMessage = {
      kind: "snapshot",
      execution_id: "e",
      workflow_id: "w",
      status: "running",
      last_seq: 0,
      created_at: null,
      started_at: null,
      completed_at: null,
      total_cost: 0,
      steps: graph.nodes.map((n) => ({
        key: n.id,
        step_id: n.id,
        status: "pending",
        attempt: 0,
        model_used: "",
        error_type: "",
        cost: 0,
        started_at: null,
        completed_at: null,
      })),
    };
    act(() => store.getState().receive([snapshot]));
    window.__prsmNodeRenders = {};
    render(
      <RunStoreContext.Provider value={store}>
        <div style={{ width: 1000, height: 600 }}>
          <RunCanvas definition={definition} nodes={graph.nodes} edges={graph.edges} />
        </div>
      </RunStoreContext.Provider>,
    );
    // (Unmeasured in jsdom, React Flow keeps nodes hidden: query the DOM, not roles.)
    await waitFor(() => expect(document.querySelectorAll("[data-step-id]")).toHaveLength(N));
    const before = { ...window.__prsmNodeRenders };
    expect(Object.keys(before)).toHaveLength(N);

    // 100 events: s0..s4 go queued → running → completed, plus noise on s5 (20 retries).
    const burst: ServerMessage[] = [];
    let seq = 1;
    for (let i = 0; i < 5; i++) {
      for (const status of ["queued", "running"]) burst.push(ev(seq++, `s${i}`, status));
    }
    while (seq <= 95) burst.push(ev(seq++, "s5", seq % 2 ? "running" : "retrying"));
    for (let i = 0; i < 5; i++) burst.push(ev(seq++, `s${i}`, "completed"));
    expect(burst).toHaveLength(100);
    act(() => store.getState().receive(burst));
    await waitFor(() =>
      expect(document.querySelector('[data-step-id="s0"]')?.getAttribute("data-status")).toBe(
        "completed",
      ),
    );

    const after = window.__prsmNodeRenders;
    const rerendered = Object.keys(after)
      .filter((id) => after[id] !== before[id])
      .sort();
    expect(rerendered).toEqual(["s0", "s1", "s2", "s3", "s4", "s5"]);
    // One store update for the batch: each changed node renders once more.
    for (const id of rerendered) expect(after[id] - before[id]).toBe(1);
    expect(document.querySelector('[data-step-id="s6"]')?.getAttribute("data-status")).toBe(
      "pending",
    );
  });

  it("says on each node why it waits, and re-renders a node only when that changes", async () => {
    const store = createRunStore();
    const waitingDefinition: Definition = {
      name: "slots",
      steps: [
        { id: "a", type: "data_processing", function: "noop" },
        { id: "b", type: "data_processing", function: "noop" },
        { id: "c", type: "aggregation", depends_on: ["a", "b"] },
        { id: "d", type: "data_processing", function: "noop" },
      ],
      ui: {
        nodes: {
          a: { x: 0, y: 0 },
          b: { x: 0, y: 120 },
          c: { x: 300, y: 60 },
          d: { x: 0, y: 240 },
        },
      },
    };
    const graph = definitionGraph(waitingDefinition);
    const row = (key: string, status: SnapshotStep["status"], waiting: WaitingReason | null) => ({
      key,
      step_id: key,
      status,
      attempt: 0,
      model_used: "",
      error_type: "",
      cost: 0,
      started_at: null,
      completed_at: null,
      waiting,
    });
    act(() =>
      store.getState().receive([
        {
          kind: "snapshot",
          execution_id: "e",
          workflow_id: "w",
          status: "running",
          last_seq: 0,
          created_at: null,
          started_at: null,
          completed_at: null,
          total_cost: 0,
          steps: [
            row("a", "running", null),
            row("b", "ready", {
              reason: "slot",
              message: "Waiting for a parallel slot (1 of 1 in use)",
              in_use: 1,
              limit: 1,
            }),
            row("c", "pending", {
              reason: "dependencies",
              message: "Waiting for a, b",
              steps: ["a", "b"],
            }),
            row("d", "completed", null),
          ],
        },
      ]),
    );
    window.__prsmNodeRenders = {};
    render(
      <RunStoreContext.Provider value={store}>
        <div style={{ width: 1000, height: 600 }}>
          <RunCanvas definition={waitingDefinition} nodes={graph.nodes} edges={graph.edges} />
        </div>
      </RunStoreContext.Provider>,
    );
    const line = (id: string) =>
      document.querySelector(`[data-step-id="${id}"] [data-waiting]`)?.textContent ?? null;
    await waitFor(() => expect(line("b")).toBe("Waiting for a parallel slot (1 of 1 in use)"));
    expect(line("c")).toBe("Waiting for a, b");
    expect(line("a")).toBeNull();
    expect(line("d")).toBeNull();
    const before = { ...window.__prsmNodeRenders };

    // a finishes: c no longer waits for it, b's slot frees (no event for either).
    act(() => store.getState().receive([ev(1, "a", "completed")]));
    await waitFor(() => expect(line("c")).toBe("Waiting for b"));
    expect(line("b")).toBe("Waiting for a parallel slot (0 of 1 in use)");
    const mid = { ...window.__prsmNodeRenders };
    expect(["a", "b", "c", "d"].map((id) => mid[id] - before[id])).toEqual([1, 1, 1, 0]);

    // b is queued: its own reason from the event; c's message did not change.
    const queued = ev(2, "b", "queued");
    queued.payload.waiting = {
      reason: "queue",
      message: "Queued on queue default (1 live worker)",
      queue: "default",
      consumers: 1,
    };
    act(() => store.getState().receive([queued]));
    await waitFor(() => expect(line("b")).toBe("Queued on queue default (1 live worker)"));
    const after = window.__prsmNodeRenders;
    expect(["a", "b", "c", "d"].map((id) => after[id] - mid[id])).toEqual([0, 1, 0, 0]);
  });
});
