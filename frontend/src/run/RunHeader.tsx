// The run page's header: status, live connection, progress, elapsed time, cost, and
// the Cancel / Resume actions (for those who may execute the workflow).

import clsx from "clsx";
import { useEffect, useState } from "react";
import { describeRefusal } from "../lib/live";
import { DANGER, PRIMARY, SECONDARY } from "./buttons";
import { Modal } from "./Modal";
import { runUrl, useCancel, useResume } from "./queries";
import { progressOf } from "./reducer";
import { formatCost, formatDuration, secondsBetween, statusStyle } from "./status";
import { useRun } from "./store";
import { EXECUTION_TERMINAL, type ExecutionDetail } from "./types";

const CARD = "rounded-lg border border-slate-200 bg-white shadow-sm";

function Elapsed({
  startedAt,
  completedAt,
  running,
}: {
  startedAt: string | null;
  completedAt: string | null;
  running: boolean;
}) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  const seconds = secondsBetween(startedAt, completedAt ?? (running ? now : null));
  return <span data-testid="run-elapsed">{formatDuration(seconds)}</span>;
}

/** When a running execution should end, as the server estimated it. */
function EstimatedEnd({ at }: { at: string }) {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return null;
  return (
    <div className="text-sm">
      <div className="text-xs text-slate-500">Estimated end</div>
      <div
        className="font-medium text-slate-800 tabular-nums"
        data-testid="run-eta"
        title={d.toLocaleString()}
      >
        {d.toLocaleTimeString(undefined, { hour12: false })}
      </div>
    </div>
  );
}

function ConnectionIndicator() {
  const connection = useRun((s) => s.connection);
  const status = useRun((s) => s.status);
  const fallback = useRun((s) => s.fallback);
  const refusal = useRun((s) => s.refusal);
  if (refusal) {
    return (
      <span
        role="alert"
        className="inline-flex items-center gap-1.5 rounded-full bg-red-50 px-2 py-0.5 text-xs font-medium text-red-700 ring-1 ring-red-200"
        title={describeRefusal(refusal.code)}
      >
        Live updates stopped: {describeRefusal(refusal.code)}
      </span>
    );
  }
  if (fallback) {
    return (
      <span
        role="status"
        className="inline-flex items-center gap-1.5 rounded-full bg-amber-50 px-2 py-0.5 text-xs font-medium text-amber-800 ring-1 ring-amber-200"
        data-testid="reconnecting"
        title="Showing the last state read from the server; live updates resume when the connection comes back."
      >
        <span className="h-1.5 w-1.5 animate-pulse rounded-full bg-amber-500" aria-hidden="true" />
        Live updates unavailable · retrying…
      </span>
    );
  }
  if (connection === "reconnecting" || (connection === "connecting" && status)) {
    return (
      <span
        role="status"
        className="inline-flex items-center gap-1.5 rounded-full bg-amber-50 px-2 py-0.5 text-xs font-medium text-amber-800 ring-1 ring-amber-200"
        data-testid="reconnecting"
      >
        <span className="h-1.5 w-1.5 animate-pulse rounded-full bg-amber-500" aria-hidden="true" />
        Reconnecting…
      </span>
    );
  }
  if (connection === "open" && status && !EXECUTION_TERMINAL.has(status)) {
    return (
      <span
        className="inline-flex items-center gap-1.5 text-xs font-medium text-emerald-700"
        data-testid="live"
      >
        <span className="h-1.5 w-1.5 rounded-full bg-emerald-500" aria-hidden="true" />
        Live
      </span>
    );
  }
  return null;
}

export function RunHeader({
  workflowId,
  executionId,
  canExecute,
  detail,
}: {
  workflowId: string;
  executionId: string;
  canExecute: boolean;
  detail: ExecutionDetail | undefined;
}) {
  const status = useRun((s) => s.status) ?? detail?.status ?? null;
  const progress = useRun((s) => (s.ready ? progressOf(s) : (detail?.progress ?? 0)));
  const startedAt = useRun((s) => s.startedAt) ?? detail?.started_at ?? null;
  const completedAt = useRun((s) => s.completedAt) ?? detail?.completed_at ?? null;
  const liveCost = useRun((s) => Math.max(s.totalCost, s.stepCost));
  const cost = Math.max(liveCost, detail?.total_cost ?? 0);
  const resumedFrom = useRun((s) => s.resumedFrom) ?? detail?.resumed_from ?? null;
  const style = statusStyle(status);
  const running = status === "running" || status === "queued";
  const pct = Math.round(progress * 100);
  const eta = running ? (detail?.estimated_completion ?? null) : null;

  return (
    <section className={clsx(CARD, "px-5 py-4")} aria-label="Run summary">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <div className="flex flex-wrap items-center gap-2">
            <h2 className="text-lg font-semibold text-slate-900">Run</h2>
            <code className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600">
              {executionId}
            </code>
            <span
              className={clsx(
                "inline-flex items-center gap-1.5 rounded-full px-2.5 py-0.5 text-sm font-medium ring-1",
                style.badge,
              )}
              data-testid="run-status"
              data-status={status ?? ""}
            >
              <span className={clsx("h-2 w-2 rounded-full", style.dot)} aria-hidden="true" />
              {status ? style.label : "Loading…"}
            </span>
            {detail?.is_test && (
              <span className="rounded-full bg-purple-50 px-2 py-0.5 text-xs font-medium text-purple-700 ring-1 ring-purple-200">
                Test run
              </span>
            )}
            <ConnectionIndicator />
          </div>
          <p className="mt-1 text-sm text-slate-500">
            {detail ? (
              <>
                Version {detail.version} · started by {detail.created_by}
              </>
            ) : (
              " "
            )}
            {resumedFrom && (
              <>
                {" · resumed from "}
                <a
                  className="text-brand-600 underline hover:text-brand-700"
                  href={runUrl(workflowId, resumedFrom)}
                >
                  {resumedFrom}
                </a>
              </>
            )}
          </p>
        </div>
        {canExecute && (
          <RunActions workflowId={workflowId} executionId={executionId} status={status} />
        )}
      </div>

      <div
        className={clsx(
          "mt-4 grid grid-cols-1 gap-4",
          eta ? "sm:grid-cols-[1fr_auto_auto_auto]" : "sm:grid-cols-[1fr_auto_auto]",
        )}
      >
        <div>
          <div className="mb-1 flex justify-between text-xs text-slate-500">
            <span id="run-progress-label">Progress</span>
            <span data-testid="run-progress-text">{pct}%</span>
          </div>
          <div
            className="h-2 overflow-hidden rounded-full bg-slate-100"
            role="progressbar"
            aria-labelledby="run-progress-label"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={pct}
            data-testid="run-progress"
          >
            <div
              className={clsx(
                "h-full rounded-full transition-[width] duration-500",
                status === "failed" || status === "timed_out"
                  ? "bg-red-500"
                  : status === "cancelled"
                    ? "bg-stone-400"
                    : status === "completed"
                      ? "bg-emerald-500"
                      : "bg-blue-500",
              )}
              style={{ width: `${pct}%` }}
            />
          </div>
        </div>
        <div className="text-sm">
          <div className="text-xs text-slate-500">Elapsed</div>
          <div className="font-medium text-slate-800 tabular-nums">
            <Elapsed startedAt={startedAt} completedAt={completedAt} running={running} />
          </div>
        </div>
        <div className="text-sm">
          <div className="text-xs text-slate-500">{running ? "Cost so far" : "Cost"}</div>
          <div className="font-medium text-slate-800 tabular-nums" data-testid="run-cost">
            {formatCost(cost)}
          </div>
        </div>
        {eta && <EstimatedEnd at={eta} />}
      </div>
    </section>
  );
}

function RunActions({
  workflowId,
  executionId,
  status,
}: {
  workflowId: string;
  executionId: string;
  status: string | null;
}) {
  const [confirming, setConfirming] = useState(false);
  const cancel = useCancel(workflowId, executionId);
  const resume = useResume(workflowId, executionId);
  const [error, setError] = useState<string | null>(null);
  const active = status === "running" || status === "queued";
  const resumable = status === "failed" || status === "timed_out" || status === "cancelled";

  return (
    <div className="flex flex-col items-end gap-1">
      <div className="flex gap-2">
        {active && (
          <button
            type="button"
            className={SECONDARY}
            onClick={() => setConfirming(true)}
            disabled={cancel.isPending}
          >
            <svg
              viewBox="0 0 20 20"
              fill="currentColor"
              className="h-4 w-4 text-red-600"
              aria-hidden="true"
            >
              <path d="M5.25 3A2.25 2.25 0 0 0 3 5.25v9.5A2.25 2.25 0 0 0 5.25 17h9.5A2.25 2.25 0 0 0 17 14.75v-9.5A2.25 2.25 0 0 0 14.75 3h-9.5Z" />
            </svg>
            {cancel.isPending ? "Cancelling…" : "Cancel run"}
          </button>
        )}
        {resumable && (
          <button
            type="button"
            className={PRIMARY}
            disabled={resume.isPending || resume.isSuccess}
            onClick={() => {
              setError(null);
              resume.mutate(undefined, {
                onSuccess: (started) =>
                  window.location.assign(runUrl(workflowId, started.execution_id)),
                onError: (e) => setError(e.message),
              });
            }}
          >
            {resume.isPending || resume.isSuccess
              ? "Resuming…"
              : status === "cancelled"
                ? "Resume"
                : "Resume from failure"}
          </button>
        )}
      </div>
      {error && (
        <p role="alert" className="text-xs font-medium text-red-600">
          {error}
        </p>
      )}
      <Modal
        open={confirming}
        title="Cancel this run?"
        description="Running steps are stopped and nothing else is started. Completed results are kept."
        onClose={() => setConfirming(false)}
        width="max-w-md"
      >
        <div className="flex justify-end gap-2">
          <button
            type="button"
            className={SECONDARY}
            onClick={() => setConfirming(false)}
            data-autofocus=""
          >
            Keep running
          </button>
          <button
            type="button"
            className={DANGER}
            onClick={() => {
              setConfirming(false);
              setError(null);
              cancel.mutate(undefined, { onError: (e) => setError(e.message) });
            }}
          >
            Cancel run
          </button>
        </div>
      </Modal>
    </div>
  );
}
