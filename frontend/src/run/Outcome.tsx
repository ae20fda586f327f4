// The end of a run (final result or error, resource usage) and what it was started with.

import clsx from "clsx";
import { JsonView } from "./JsonView";
import { formatDuration } from "./status";
import { useRun } from "./store";
import { EXECUTION_TERMINAL, type ExecutionDetail } from "./types";

const CARD = "rounded-lg border border-slate-200 bg-white shadow-sm";

/** What the run was started with; secret inputs appear as the API redacts them. */
export function InputsCard({ detail }: { detail: ExecutionDetail }) {
  return (
    <details className={clsx(CARD, "group px-4 py-3")} data-testid="run-inputs">
      <summary className="cursor-pointer list-none text-sm font-semibold text-slate-800 focus-visible:outline-2 focus-visible:outline-brand-500 [&::-webkit-details-marker]:hidden">
        <span
          className="mr-1 inline-block text-slate-400 transition-transform group-open:rotate-90"
          aria-hidden="true"
        >
          ▸
        </span>
        Inputs and settings
      </summary>
      <div className="mt-3 grid grid-cols-1 gap-4 md:grid-cols-2">
        <div>
          <h3 className="mb-1.5 text-xs font-semibold tracking-wide text-slate-500 uppercase">
            Inputs
          </h3>
          {Object.keys(detail.inputs ?? {}).length ? (
            <JsonView value={detail.inputs} label="Inputs" />
          ) : (
            <p className="text-sm text-slate-400">No inputs.</p>
          )}
        </div>
        <div>
          <h3 className="mb-1.5 text-xs font-semibold tracking-wide text-slate-500 uppercase">
            Execution settings
          </h3>
          <JsonView value={detail.config} label="Execution settings" />
        </div>
      </div>
    </details>
  );
}

export function Outcome({ detail }: { detail: ExecutionDetail | undefined }) {
  const status = useRun((s) => s.status) ?? detail?.status;
  const liveError = useRun((s) => s.error);
  if (!status || !EXECUTION_TERMINAL.has(status)) return null;
  const error = liveError ?? detail?.error ?? null;
  // The detail may still be the one read before the end: wait for the final one.
  const final = detail && EXECUTION_TERMINAL.has(detail.status) ? detail : undefined;
  return (
    <section
      className={clsx(CARD, "px-4 py-3")}
      aria-labelledby="outcome-title"
      data-testid="run-outcome"
    >
      <h2 id="outcome-title" className="mb-2 text-sm font-semibold text-slate-800">
        {status === "completed" ? "Final result" : "Outcome"}
      </h2>
      {error && status !== "completed" && (
        <div
          role="alert"
          className="mb-3 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800"
        >
          {error.type && <span className="mr-1 font-mono text-xs font-semibold">{error.type}</span>}
          {error.message}
          {error.step && <span className="text-red-600"> (step {error.step})</span>}
        </div>
      )}
      {status === "completed" &&
        (final ? (
          final.final_result === null || final.final_result === undefined ? (
            <p className="text-sm text-slate-500">This run produced no final result.</p>
          ) : (
            <div data-testid="final-result">
              <JsonView value={final.final_result} label="Final result" openDepth={3} />
            </div>
          )
        ) : (
          <p className="text-sm text-slate-400">Loading the final result…</p>
        ))}
      {final && (
        <dl className="mt-3 flex flex-wrap gap-x-6 gap-y-1 text-xs text-slate-500">
          <div>
            <dt className="inline">Duration: </dt>
            <dd className="inline font-medium text-slate-700">
              {formatDuration(final.duration_seconds)}
            </dd>
          </div>
          <div>
            <dt className="inline">CPU: </dt>
            <dd className="inline font-medium text-slate-700">
              {(final.resource_usage.cpu_hours * 3600).toFixed(2)} s
            </dd>
          </div>
          <div>
            <dt className="inline">Memory: </dt>
            <dd className="inline font-medium text-slate-700">
              {(final.resource_usage.ram_gb_hours * 3600).toFixed(3)} GB·s
            </dd>
          </div>
          {final.resource_usage.gpu_hours > 0 && (
            <div>
              <dt className="inline">GPU: </dt>
              <dd className="inline font-medium text-slate-700">
                {(final.resource_usage.gpu_hours * 3600).toFixed(2)} s
              </dd>
            </div>
          )}
        </dl>
      )}
    </section>
  );
}
