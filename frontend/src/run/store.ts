// The run page's live store: the reducer's state in a zustand store, one per page.
// Components select their own slice (`useRun(s => s.steps[id])`), so an event
// re-renders only the components whose slice changed.

import { createContext, useContext } from "react";
import { createStore, useStore, type StoreApi } from "zustand";
import { applyMessages, applySnapshot, initialRunState, type RunState } from "./reducer";
import type { ServerMessage, SnapshotMessage } from "./types";
import type { LiveRefusal, LiveStatus } from "../lib/live";

export interface RunStoreState extends RunState {
  connection: LiveStatus;
  refusal: LiveRefusal | null;
  /** Known iteration totals of loops (from the detail API). */
  loopTotals: Record<string, number>;
  /** The execution's `max_parallel_steps` (from the detail API), until known null. */
  maxParallel: number | null;
  setMaxParallel(limit: number | null): void;
  /** True while the state comes from the REST detail because the socket is not connected. */
  fallback: boolean;
  receiveFallback(snapshot: SnapshotMessage): void;
  /** The step whose details the side panel shows. */
  selected: string | null;
  select(stepId: string | null): void;
  receive(messages: readonly ServerMessage[]): void;
  setConnection(status: LiveStatus, refusal?: LiveRefusal): void;
  setLoopTotals(totals: Record<string, number>): void;
  /** Why a completed step's result is empty, by step id (from the detail API). */
  emptyReasons: Record<string, string>;
  setEmptyReasons(reasons: Record<string, string>): void;
}

export type RunStore = StoreApi<RunStoreState>;

export function createRunStore(): RunStore {
  return createStore<RunStoreState>()((set) => ({
    ...initialRunState,
    connection: "connecting",
    refusal: null,
    loopTotals: {},
    maxParallel: null,
    setMaxParallel: (maxParallel) =>
      set((state) => (state.maxParallel === maxParallel ? state : { maxParallel })),
    selected: null,
    select: (selected) => set({ selected }),
    fallback: false,
    receive: (messages) =>
      set((state) => {
        const next = applyMessages(state, messages);
        return messages.some((m) => m.kind === "snapshot") ? { ...next, fallback: false } : next;
      }),
    receiveFallback: (snapshot) =>
      set((state) =>
        state.ready && !state.fallback
          ? state
          : { ...applySnapshot(state, snapshot), fallback: true },
      ),
    setConnection: (connection, refusal) => set({ connection, refusal: refusal ?? null }),
    setLoopTotals: (totals) =>
      set((state) => {
        const changed = Object.entries(totals).some(([k, v]) => state.loopTotals[k] !== v);
        return changed ? { loopTotals: { ...state.loopTotals, ...totals } } : state;
      }),
    emptyReasons: {},
    setEmptyReasons: (reasons) =>
      set((state) => {
        const changed = Object.entries(reasons).some(([k, v]) => state.emptyReasons[k] !== v);
        return changed ? { emptyReasons: { ...state.emptyReasons, ...reasons } } : state;
      }),
  }));
}

export const RunStoreContext = createContext<RunStore | null>(null);

export function useRunStoreApi(): RunStore {
  const store = useContext(RunStoreContext);
  if (!store) throw new Error("useRun outside <RunStoreContext.Provider>");
  return store;
}

export function useRun<T>(selector: (state: RunStoreState) => T): T {
  return useStore(useRunStoreApi(), selector);
}
