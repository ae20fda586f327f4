// Each iteration of a loop, one row each, for the step panel: its state, the model
// it used, how long it took and its error. Live from the store.

import { useShallow } from "zustand/react/shallow";
import { formatDuration, secondsBetween, statusStyle } from "./status";
import { StatusMark } from "./StatusMark";
import { useRun } from "./store";
import type { StepLive } from "./types";

/** Rows drawn; a bigger loop lists its first ones (the squares above show all). */
export const MAX_ROWS = 200;

/** The loop's iteration runs, in order (at most `limit`). */
export function useIterations(stepId: string, limit = MAX_ROWS): StepLive[] {
  return useRun(
    useShallow((s) => {
      const out: StepLive[] = [];
      for (const run of Object.values(s.steps))
        if (run.stepId === stepId && run.iteration !== null) out.push(run);
      return out.sort((a, b) => (a.iteration ?? 0) - (b.iteration ?? 0)).slice(0, limit);
    }),
  );
}

/** The models a composite's children used, in order of first use ("" when none yet). */
export function useChildModels(stepId: string): string {
  return useRun((s) => {
    const seen: string[] = [];
    for (const run of Object.values(s.steps))
      if (
        run.stepId === stepId &&
        run.key !== stepId &&
        run.modelUsed &&
        !seen.includes(run.modelUsed)
      )
        seen.push(run.modelUsed);
    return seen.join(", ");
  });
}

export function IterationList({ stepId }: { stepId: string }) {
  const runs = useIterations(stepId);
  if (!runs.length) return null;
  return (
    <table className="mt-2 w-full text-xs" data-testid="iteration-list">
      <thead>
        <tr className="text-left text-slate-500">
          <th className="py-1 font-medium">#</th>
          <th className="py-1 font-medium">State</th>
          <th className="py-1 font-medium">Model</th>
          <th className="py-1 text-right font-medium">Time</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {runs.map((run) => {
          const style = statusStyle(run.status);
          return (
            <tr key={run.key} data-iteration={run.iteration} data-status={run.status}>
              <td className="py-1 font-mono text-slate-500">{run.iteration}</td>
              <td className="py-1">
                <span
                  className="inline-flex items-center gap-1"
                  title={run.errorMessage || undefined}
                >
                  <StatusMark style={style} />
                  {style.short ?? style.label}
                  {run.attempt > 1 ? ` · attempt ${run.attempt}` : ""}
                </span>
                {run.errorType && (
                  <span className="block font-mono text-[11px] text-red-700">{run.errorType}</span>
                )}
              </td>
              <td className="py-1 break-all text-slate-700">{run.modelUsed || "—"}</td>
              <td className="py-1 text-right text-slate-600">
                {formatDuration(secondsBetween(run.startedAt, run.completedAt))}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
