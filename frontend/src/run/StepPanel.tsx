// The side panel of one step: status, timing, attempts, model, cost, error, input and
// result. Live fields come from the store; the result comes from the execution
// detail API, fetched again when the step's live status moves past what it shows.

import clsx from "clsx";
import { useEffect, useRef, type ReactNode } from "react";
import { useShallow } from "zustand/react/shallow";
import { JsonView } from "./JsonView";
import { loopSummary } from "./reducer";
import { formatCost, formatDuration, secondsBetween, statusStyle } from "./status";
import { useRun } from "./store";
import type { DefinitionStep, ExecutionDetail, StepLive } from "./types";

/** Iterations drawn one square each; a bigger loop shows its summary only. */
const MAX_SQUARES = 1000;

function IterationGrid({ stepId }: { stepId: string }) {
  const iterations = useRun(
    useShallow((s) => {
      const out: StepLive[] = [];
      for (const run of Object.values(s.steps)) {
        if (run.stepId === stepId && run.iteration !== null) out.push(run);
      }
      return out.length > MAX_SQUARES ? [] : out.sort((a, b) => (a.iteration ?? 0) - (b.iteration ?? 0));
    }),
  );
  if (!iterations.length) return null;
  return (
    <ul className="mt-2 flex flex-wrap gap-1" aria-label="Iterations" data-testid="iterations">
      {iterations.map((run) => {
        const style = statusStyle(run.status);
        const text = `Iteration ${run.iteration}: ${style.label}${run.errorMessage ? ` — ${run.errorMessage}` : ""}`;
        return (
          <li
            key={run.key}
            className={clsx("h-3 w-3 rounded-sm", style.dot)}
            title={text}
            aria-label={text}
            data-status={run.status}
          />
        );
      })}
    </ul>
  );
}

interface StepPanelProps {
  stepId: string;
  step: DefinitionStep | undefined;
  detail: ExecutionDetail | undefined;
  detailFetching: boolean;
  refetchDetail: () => void;
  onClose: () => void;
}

function formatTime(value: string | null | undefined): string {
  if (!value) return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toLocaleTimeString(undefined, { hour12: false }) + `.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="flex justify-between gap-3 py-1.5 text-sm">
      <dt className="text-slate-500">{label}</dt>
      <dd className="text-right font-medium break-all text-slate-800">{children}</dd>
    </div>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="mt-4">
      <h3 className="mb-1.5 text-xs font-semibold tracking-wide text-slate-500 uppercase">{title}</h3>
      {children}
    </section>
  );
}

/** What a step takes, as its definition writes it (references unresolved). */
function definedInput(step: DefinitionStep): unknown {
  if (step.inputs) return step.inputs;
  if (step.input !== undefined && step.input !== null) return step.input;
  if (step.type === "loop" && step.iterate_over !== undefined) return { iterate_over: step.iterate_over };
  if (step.type === "conditional" && step.condition) return { condition: step.condition };
  return undefined;
}

export function StepPanel({ stepId, step, detail, detailFetching, refetchDetail, onClose }: StepPanelProps) {
  const live = useRun((s) => s.steps[stepId]);
  const children = useRun((s) => s.children[stepId]);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const fromApi = detail?.steps.find((s) => s.id === stepId);
  const status = live?.status ?? fromApi?.status ?? "pending";
  const style = statusStyle(status);

  useEffect(() => {
    headingRef.current?.focus();
  }, [stepId]);

  // The detail is older than what the socket says: read it again (result, error…).
  const stale = !!live && !!detail && (!fromApi || fromApi.status !== live.status);
  useEffect(() => {
    if (stale && !detailFetching) refetchDetail();
  }, [stale, live?.status]);

  const startedAt = live?.startedAt ?? fromApi?.started_at ?? null;
  const completedAt = live?.completedAt ?? fromApi?.completed_at ?? null;
  const running = status === "running" || status === "retrying";
  const duration = fromApi?.duration_seconds ?? secondsBetween(startedAt, completedAt ?? (running ? Date.now() : null));
  const errorType = live?.errorType || fromApi?.error?.type || "";
  const errorMessage = live?.errorMessage || fromApi?.error?.message || "";
  const modelUsed = live?.modelUsed || fromApi?.model_used || "";
  const cost = Math.max(live?.cost ?? 0, fromApi?.cost ?? 0);
  const iterations = step?.type === "loop" ? loopSummary(children, fromApi?.iterations?.total) : null;

  return (
    <aside
      className="flex h-full flex-col rounded-lg border border-slate-200 bg-white shadow-sm"
      aria-labelledby="step-panel-title"
      data-testid="step-panel"
    >
      <div className="flex items-start justify-between gap-3 border-b border-slate-200 px-4 py-3">
        <div className="min-w-0">
          <h2
            id="step-panel-title"
            ref={headingRef}
            tabIndex={-1}
            className="truncate text-base font-semibold text-slate-900 focus:outline-none"
          >
            {step?.name || stepId}
          </h2>
          <p className="truncate font-mono text-xs text-slate-500">
            {stepId}
            {step?.type ? ` · ${step.type}` : ""}
          </p>
        </div>
        <div className="flex items-center gap-2">
          <span className={clsx("inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ring-1", style.badge)}>
            <span className={clsx("h-1.5 w-1.5 rounded-full", style.dot)} aria-hidden="true" />
            {style.label}
          </span>
          <button
            type="button"
            onClick={onClose}
            className="rounded-md p-1 text-slate-400 hover:bg-slate-100 hover:text-slate-600 focus-visible:outline-2 focus-visible:outline-brand-500"
            aria-label="Close step details"
          >
            <svg viewBox="0 0 20 20" fill="currentColor" className="h-5 w-5" aria-hidden="true">
              <path d="M6.28 5.22a.75.75 0 0 0-1.06 1.06L8.94 10l-3.72 3.72a.75.75 0 1 0 1.06 1.06L10 11.06l3.72 3.72a.75.75 0 1 0 1.06-1.06L11.06 10l3.72-3.72a.75.75 0 0 0-1.06-1.06L10 8.94 6.28 5.22Z" />
            </svg>
          </button>
        </div>
      </div>
      <div className="flex-1 overflow-y-auto px-4 pb-4">
        <dl className="mt-2 divide-y divide-slate-100">
          <Row label="Started">{formatTime(startedAt)}</Row>
          <Row label="Finished">{formatTime(completedAt)}</Row>
          <Row label="Duration">{formatDuration(duration)}</Row>
          <Row label="Attempts">{live?.attempt ?? fromApi?.attempts ?? 0}</Row>
          <Row label="Model used">{modelUsed || "—"}</Row>
          <Row label="Cost">{formatCost(cost)}</Row>
          {fromApi?.worker_host ? <Row label="Worker">{fromApi.worker_host}</Row> : null}
          {fromApi?.branch ? <Row label="Branch taken">{fromApi.branch}</Row> : null}
        </dl>

        {iterations && iterations.total > 0 && (
          <Section title="Iterations">
            <p className="text-sm text-slate-700">
              {iterations.done} of {iterations.total} done
              {iterations.running ? `, ${iterations.running} running` : ""}
              {iterations.failed ? `, ${iterations.failed} failed` : ""}
              {iterations.skipped ? `, ${iterations.skipped} skipped` : ""}
              {iterations.waiting ? `, ${iterations.waiting} waiting` : ""}
            </p>
            <IterationGrid stepId={stepId} />
          </Section>
        )}

        {(errorType || errorMessage) && (
          <Section title="Error">
            <div role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
              {errorType && <p className="font-mono text-xs font-semibold">{errorType}</p>}
              {errorMessage && <p className="mt-0.5 break-words whitespace-pre-wrap">{errorMessage}</p>}
            </div>
          </Section>
        )}

        <Section title="Input">
          {fromApi && "input" in fromApi ? (
            <JsonView value={fromApi.input} label="Resolved input" />
          ) : step && definedInput(step) !== undefined ? (
            <>
              <p className="mb-1 text-xs text-slate-500">As defined (references are resolved when the step runs).</p>
              <JsonView value={definedInput(step)} label="Input as defined" />
            </>
          ) : (
            <p className="text-sm text-slate-400">No input.</p>
          )}
        </Section>

        <Section title="Result">
          {fromApi && fromApi.result !== null && fromApi.result !== undefined ? (
            <div data-testid="step-result">
              <JsonView value={fromApi.result} label="Result" />
            </div>
          ) : status === "completed" && (stale || detailFetching) ? (
            <p className="text-sm text-slate-400">Loading the result…</p>
          ) : (
            <p className="text-sm text-slate-400">
              {status === "completed" ? "No result." : running ? "Running…" : "No result yet."}
            </p>
          )}
        </Section>
      </div>
    </aside>
  );
}
