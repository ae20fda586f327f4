// The reconnecting stream (src/lib/live.ts) wired to a run store, over a stand-in for
// the browser's WebSocket class that the test drives (jsdom has no websocket server).

import { afterEach, describe, expect, it, vi } from "vitest";
import { executionSocketUrl, openLiveStream, type LiveStatus } from "../lib/live";
import { createRunStore } from "./store";
import type { ServerMessage } from "./types";

class FakeSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  static instances: FakeSocket[] = [];
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = 0;
  binaryType = "blob";
  sent: string[] = [];
  constructor(public url: string) {
    super();
    FakeSocket.instances.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close(code = 1000, reason = "") {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event("close"), { code, reason, wasClean: true }));
  }
  // --- driven by the test
  serverOpen() {
    this.readyState = 1;
    this.dispatchEvent(new Event("open"));
  }
  serverSend(message: unknown) {
    this.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(message) }));
  }
  serverClose(code: number, reason = "") {
    this.readyState = 3;
    this.dispatchEvent(
      Object.assign(new Event("close"), { code, reason, wasClean: code !== 1006 }),
    );
  }
}

const snapshot = (lastSeq: number): ServerMessage => ({
  kind: "snapshot",
  execution_id: "exec_1",
  workflow_id: "wf_1",
  status: "running",
  last_seq: lastSeq,
  created_at: null,
  started_at: null,
  completed_at: null,
  total_cost: 0,
  steps: [
    {
      key: "a",
      step_id: "a",
      status: "queued",
      attempt: 0,
      model_used: "",
      error_type: "",
      cost: 0,
      started_at: null,
      completed_at: null,
    },
  ],
});

const event = (seq: number, type: string): ServerMessage => ({
  kind: "event",
  seq,
  type,
  execution_id: "exec_1",
  workflow_id: "wf_1",
  step: "a",
  payload: { status: type.split(".")[1] },
  at: null,
});

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

afterEach(() => {
  FakeSocket.instances = [];
  vi.restoreAllMocks();
});

describe("executionSocketUrl", () => {
  it("uses ws: or wss: like the page and adds after once a seq was seen", () => {
    expect(executionSocketUrl("exec_1", null, { protocol: "http:", host: "h:8000" })).toBe(
      "ws://h:8000/ws/executions/exec_1/",
    );
    expect(executionSocketUrl("exec_1", 0, { protocol: "http:", host: "h" })).toBe(
      "ws://h/ws/executions/exec_1/",
    );
    expect(executionSocketUrl("exec_1", 42, { protocol: "https:", host: "h" })).toBe(
      "wss://h/ws/executions/exec_1/?after=42",
    );
  });
});

describe("openLiveStream", () => {
  it("reconnects after a dropped connection with the last seq it received", async () => {
    const store = createRunStore();
    const statuses: LiveStatus[] = [];
    const stream = openLiveStream<ServerMessage>({
      url: () =>
        executionSocketUrl("exec_1", store.getState().lastSeq || null, {
          protocol: "http:",
          host: "h",
        }),
      onMessages: (m) => store.getState().receive(m),
      onStatus: (s) => statuses.push(s),
      WebSocket: FakeSocket,
    });
    await until(() => FakeSocket.instances.length === 1, "the first connection");
    const first = FakeSocket.instances[0];
    expect(first.url).toBe("ws://h/ws/executions/exec_1/");
    first.serverOpen();
    first.serverSend(snapshot(5));
    first.serverSend(event(6, "step.running"));
    first.serverSend(event(7, "step.completed"));
    // Dropped before the batch was applied: the close applies it first.
    first.serverClose(1006);
    expect(store.getState().lastSeq).toBe(7);
    expect(statuses).toContain("reconnecting");

    await until(() => FakeSocket.instances.length === 2, "the reconnection");
    const second = FakeSocket.instances[1];
    expect(second.url).toBe("ws://h/ws/executions/exec_1/?after=7");
    second.serverOpen();
    second.serverSend(snapshot(8));
    second.serverSend(event(8, "step.completed")); // replayed; the snapshot has it
    second.serverSend(event(9, "execution.completed"));
    await until(() => store.getState().lastSeq === 9, "the events after reconnecting");
    expect(store.getState().ignored).toBe(1);
    expect(store.getState().steps.a.status).toBe("completed");
    expect(statuses.at(-1)).toBe("open");
    stream.close();
    expect(statuses.at(-1)).toBe("closed");
  });

  it("stops on a refusal instead of retrying", async () => {
    const statuses: string[] = [];
    let refusedWith = 0;
    openLiveStream<ServerMessage>({
      url: () => "ws://h/ws/executions/exec_x/",
      onMessages: () => undefined,
      onStatus: (s, refusal) => {
        statuses.push(s);
        if (refusal) refusedWith = refusal.code;
      },
      WebSocket: FakeSocket,
    });
    await until(() => FakeSocket.instances.length === 1, "the connection");
    FakeSocket.instances[0].serverOpen();
    FakeSocket.instances[0].serverClose(4404, "execution not found");
    expect(statuses.at(-1)).toBe("refused");
    expect(refusedWith).toBe(4404);
    await new Promise((r) => setTimeout(r, 700));
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it("pings to keep the connection alive", async () => {
    const stream = openLiveStream<ServerMessage>({
      url: () => "ws://h/ws/executions/exec_1/",
      onMessages: () => undefined,
      pingMs: 20,
      WebSocket: FakeSocket,
    });
    await until(() => FakeSocket.instances.length === 1, "the connection");
    FakeSocket.instances[0].serverOpen();
    await until(() => FakeSocket.instances[0].sent.length > 0, "a ping");
    expect(JSON.parse(FakeSocket.instances[0].sent[0])).toEqual({ type: "ping" });
    stream.close();
  });
});
