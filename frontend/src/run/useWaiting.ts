// The reason a step waits, as one subscription: the hook returns the same object until
// what it says changes, so a node re-renders only when its own message changes.

import { useRef } from "react";
import { sameWaiting } from "./reducer";
import { useRun } from "./store";
import type { WaitingReason } from "./types";
import { currentWaiting, type WaitingInput } from "./waiting";

export function useWaiting(input: Omit<WaitingInput, "maxParallel" | "knownChildren">) {
  const last = useRef<WaitingReason | null>(null);
  return useRun((state) => {
    const next = currentWaiting(state, {
      ...input,
      maxParallel: state.maxParallel,
      knownChildren: state.loopTotals[input.key],
    });
    if (!sameWaiting(last.current, next)) last.current = next;
    return last.current;
  });
}
