// The side panel of one step: status, timing, attempts, model, cost, error, input and
// result. Live fields come from the store; the result comes from the execution
// detail API, fetched again when the step's live status moves past what it shows.

import clsx from "clsx";
import { useEffect, useRef, type ReactNode } from "react";
import { useShallow } from "zustand/react/shallow";
import { IterationList, useChildModels } from "./Iterations";
import { JsonView } from "./JsonView";
import { loopSummary, parseStepKey } from "./reducer";
import { formatCost, formatDuration, secondsBetween, statusStyle } from "./status";
import { StatusMark } from "./StatusMark";
import { useRun } from "./store";
import { attemptsOf } from "./attempts";
import type {
  AttemptRecord,
  DefinitionStep,
  ExecutionDetail,
  StepLive,
  WaitingReason,
} from "./types";
import { useWaiting } from "./useWaiting";

/** Iterations drawn one square each; a bigger loop shows its summary only. */
const MAX_SQUARES = 1000;

function IterationGrid({ stepId }: { stepId: string }) {
  const iterations = useRun(
    useShallow((s) => {
      const out: StepLive[] = [];
      for (const run of Object.values(s.steps)) {
        if (run.stepId === stepId && run.iteration !== null) out.push(run);
      }
      return out.length > MAX_SQUARES
        ? []
        : out.sort((a, b) => (a.iteration ?? 0) - (b.iteration ?? 0));
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

/** A step run a reason names, as a button that shows that step (an iteration shows its
 * loop), with its live status. */
function StepLink({ runKey }: { runKey: string }) {
  const status = useRun((s) => s.steps[runKey]?.status ?? "pending");
  const select = useRun((s) => s.select);
  const style = statusStyle(status);
  return (
    <li>
      <button
        type="button"
        className="inline-flex items-center gap-1.5 rounded px-1.5 py-0.5 font-mono text-xs text-brand-700 ring-1 ring-slate-200 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-brand-500"
        onClick={() => select(parseStepKey(runKey).stepId)}
        title={`${runKey}: ${style.label}. Show this step`}
        data-step-link={runKey}
      >
        <StatusMark style={style} />
        {runKey}
      </button>
    </li>
  );
}

function formatClock(value: string | null | undefined): string {
  if (!value) return "soon";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toLocaleTimeString(undefined, { hour12: false });
}

/** Why the step waits: the message, then what it names. */
function WaitingDetails({ waiting }: { waiting: WaitingReason }) {
  const warn =
    waiting.reason === "stalled" || (waiting.reason === "queue" && waiting.consumers === 0);
  return (
    <div data-testid="step-waiting" data-reason={waiting.reason}>
      <p
        className={clsx(
          "rounded-md border px-3 py-2 text-sm",
          warn ? "border-red-200 bg-red-50 text-red-800" : "border-sky-200 bg-sky-50 text-sky-900",
        )}
        role={warn ? "alert" : "status"}
        data-testid="step-waiting-message"
      >
        {waiting.message}
      </p>
      {(waiting.reason === "dependencies" ||
        waiting.reason === "children" ||
        waiting.reason === "stalled") &&
        waiting.steps.length > 0 && (
          <ul className="mt-2 flex flex-wrap gap-1.5" aria-label="Waiting for">
            {waiting.steps.map((key) => (
              <StepLink key={key} runKey={key} />
            ))}
          </ul>
        )}
      <dl className="mt-1 divide-y divide-slate-100">
        {waiting.reason === "slot" && (
          <Row label="Parallel slots in use">
            {waiting.in_use} of {waiting.limit}
          </Row>
        )}
        {waiting.reason === "queue" && (
          <>
            <Row label="Queue">
              <code>{waiting.queue}</code>
            </Row>
            <Row label="Live workers on it">
              {waiting.consumers === null ? (
                "unknown"
              ) : (
                <span className={waiting.consumers === 0 ? "text-red-700" : undefined}>
                  {waiting.consumers}
                  {waiting.consumers === 0 ? " — start a worker that consumes it" : ""}
                </span>
              )}
            </Row>
          </>
        )}
        {waiting.reason === "retry" && (
          <>
            <Row label="Next attempt">{formatClock(waiting.at)}</Row>
            <Row label="Attempt">
              {waiting.attempt}
              {waiting.max_attempts ? ` of ${waiting.max_attempts}` : ""}
            </Row>
            {waiting.last_error && <Row label="Last error">{waiting.last_error}</Row>}
          </>
        )}
      </dl>
    </div>
  );
}

interface StepPanelProps {
  stepId: string;
  step: DefinitionStep | undefined;
  /** The steps it depends on in the definition. */
  dependsOn: string[];
  detail: ExecutionDetail | undefined;
  detailFetching: boolean;
  refetchDetail: () => void;
  onClose: () => void;
}

function formatTime(value: string | null | undefined): string {
  if (!value) return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime())
    ? value
    : d.toLocaleTimeString(undefined, { hour12: false }) +
        `.${String(d.getMilliseconds()).padStart(3, "0")}`;
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
      <h3 className="mb-1.5 text-xs font-semibold tracking-wide text-slate-500 uppercase">
        {title}
      </h3>
      {children}
    </section>
  );
}

const ATTEMPT_STATUS: Record<AttemptRecord["status"], { label: string; tone: string }> = {
  running: { label: "Running", tone: "text-blue-700" },
  succeeded: { label: "Succeeded", tone: "text-emerald-700" },
  failed: { label: "Failed", tone: "text-red-700" },
  lost: { label: "Worker lost", tone: "text-amber-700" },
  cancelled: { label: "Cancelled", tone: "text-slate-600" },
};

/** Every attempt: its model, how it ended and how long it took, the error, the wait. */
function AttemptList({ attempts }: { attempts: AttemptRecord[] }) {
  return (
    <ol className="space-y-2" data-testid="attempts">
      {attempts.map((a) => {
        const state = ATTEMPT_STATUS[a.status] ?? ATTEMPT_STATUS.failed;
        const seconds =
          a.duration_seconds ??
          (a.status === "running" ? secondsBetween(a.started_at, Date.now()) : null);
        return (
          <li
            key={a.attempt}
            className={clsx(
              "rounded-md border px-3 py-2 text-sm",
              a.status === "failed" || a.status === "lost"
                ? "border-red-200 bg-red-50/60"
                : "border-slate-200",
            )}
            data-testid="attempt"
            data-attempt={a.attempt}
            data-status={a.status}
          >
            <div className="flex items-baseline justify-between gap-2">
              <span className="font-medium text-slate-800">
                Attempt {a.attempt}
                {a.model && (
                  <span className="ml-1 font-mono text-xs text-slate-500">{a.model}</span>
                )}
              </span>
              <span className={clsx("shrink-0 text-xs font-medium", state.tone)}>
                {state.label} · {formatDuration(seconds)}
              </span>
            </div>
            {a.error_type && (
              <p className="mt-1 text-xs break-words text-red-800">
                <span className="font-mono font-semibold">{a.error_type}</span>
                {a.error_message ? `: ${a.error_message}` : ""}
              </p>
            )}
            {a.next_model ? (
              <p className="mt-1 text-xs text-slate-500">Then fell back to {a.next_model}</p>
            ) : a.wait_seconds ? (
              <p className="mt-1 text-xs text-slate-500" data-testid="attempt-wait">
                Waited {formatDuration(a.wait_seconds)} before attempt {a.attempt + 1}
              </p>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

/** What a step takes, as its definition writes it (references unresolved). */
function definedInput(step: DefinitionStep): unknown {
  if (step.inputs) return step.inputs;
  if (step.input !== undefined && step.input !== null) return step.input;
  if (step.type === "loop" && step.iterate_over !== undefined)
    return { iterate_over: step.iterate_over };
  if (step.type === "conditional" && step.condition) return { condition: step.condition };
  return undefined;
}

export function StepPanel({
  stepId,
  step,
  dependsOn,
  detail,
  detailFetching,
  refetchDetail,
  onClose,
}: StepPanelProps) {
  const live = useRun((s) => s.steps[stepId]);
  const children = useRun((s) => s.children[stepId]);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const fromApi = detail?.steps.find((s) => s.id === stepId);
  const waiting = useWaiting({ key: stepId, stepType: step?.type ?? "", dependsOn });
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
  const running = status === "running" || status === "retrying" || status === "waiting";
  const duration =
    fromApi?.duration_seconds ??
    secondsBetween(startedAt, completedAt ?? (running ? Date.now() : null));
  const errorType = live?.errorType || fromApi?.error?.type || "";
  const errorMessage = live?.errorMessage || fromApi?.error?.message || "";
  // A loop or conditional uses no model itself: its iterations or branch do.
  const composite = step?.type === "loop" || step?.type === "conditional";
  const childModels = useChildModels(stepId);
  const modelUsed = live?.modelUsed || fromApi?.model_used || (composite ? childModels : "");
  const cost = Math.max(live?.cost ?? 0, fromApi?.cost ?? 0);
  const attempts = attemptsOf(live, fromApi);
  const iterations =
    step?.type === "loop" ? loopSummary(children, fromApi?.iterations?.total) : null;

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
          <span
            className={clsx(
              "inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ring-1",
              style.badge,
            )}
          >
            <StatusMark style={style} />
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
        {waiting && (
          <Section title="Waiting">
            <WaitingDetails waiting={waiting} />
          </Section>
        )}
        <dl className="mt-2 divide-y divide-slate-100">
          <Row label="Started">{formatTime(startedAt)}</Row>
          <Row label="Finished">{formatTime(completedAt)}</Row>
          <Row label="Duration">{formatDuration(duration)}</Row>
          <Row label="Attempts">{live?.attempt ?? fromApi?.attempts ?? 0}</Row>
          <Row label={composite ? "Models its steps used" : "Model used"}>
            {modelUsed || (composite ? "none yet" : "—")}
          </Row>
          <Row label="Cost">{formatCost(cost)}</Row>
          {fromApi?.worker_host ? <Row label="Worker">{fromApi.worker_host}</Row> : null}
          {fromApi?.branch ? <Row label="Branch taken">{fromApi.branch}</Row> : null}
        </dl>

        {attempts.length > 0 && (
          <Section title={attempts.length === 1 ? "Attempt" : `Attempts (${attempts.length})`}>
            <AttemptList attempts={attempts} />
          </Section>
        )}

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
            <IterationList stepId={stepId} />
          </Section>
        )}

        {(errorType || errorMessage) && (
          <Section title="Error">
            <div
              role="alert"
              className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800"
            >
              {errorType && <p className="font-mono text-xs font-semibold">{errorType}</p>}
              {errorMessage && (
                <p className="mt-0.5 break-words whitespace-pre-wrap">{errorMessage}</p>
              )}
            </div>
          </Section>
        )}

        <Section title="Input">
          {fromApi && "input" in fromApi && !(composite && fromApi.input == null) ? (
            <JsonView value={fromApi.input} label="Resolved input" />
          ) : step && definedInput(step) !== undefined ? (
            <>
              <p className="mb-1 text-xs text-slate-500">
                As defined (references are resolved when the step runs).
              </p>
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
              {status === "completed"
                ? "No result."
                : status === "waiting"
                  ? "Waiting for its steps…"
                  : running
                    ? "Running…"
                    : "No result yet."}
            </p>
          )}
        </Section>
      </div>
    </aside>
  );
}
