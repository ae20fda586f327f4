// Connect a run store to the execution's websocket: snapshot, then events, resumed
// with ?after=<last seq> after any dropped connection. Closes once the run is over.

import { useEffect } from "react";
import { executionSocketUrl, openLiveStream } from "../lib/live";
import type { RunStore } from "./store";
import { EXECUTION_TERMINAL, type ServerMessage } from "./types";

export function useLiveExecution(store: RunStore, executionId: string): void {
  useEffect(() => {
    const stream = openLiveStream<ServerMessage>({
      url: () => executionSocketUrl(executionId, store.getState().lastSeq || null),
      onMessages: (messages) => store.getState().receive(messages),
      onStatus: (status, refusal) => store.getState().setConnection(status, refusal),
    });
    let closed = false;
    const check = (ready: boolean, status: string | null, fallback: boolean) => {
      if (!ready || fallback) return; // only the socket's snapshot counts
      document.body.dataset.runReady = "true";
      if (!closed && status && EXECUTION_TERMINAL.has(status)) {
        closed = true;
        // Nothing follows a finished run's last event; free the connection.
        setTimeout(() => stream.close(), 0);
      }
    };
    const unsubscribe = store.subscribe((state) =>
      check(state.ready, state.status, state.fallback),
    );
    check(store.getState().ready, store.getState().status, store.getState().fallback);
    // Test and benchmark hook: drop the connection as a network failure would.
    (window as unknown as { __prsmRunDropConnection?: () => void }).__prsmRunDropConnection = () =>
      stream.drop();
    return () => {
      unsubscribe();
      if (!closed) stream.close();
    };
  }, [store, executionId]);
}
