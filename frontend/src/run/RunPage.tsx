// The live view of one execution (#run-root {workflowId, executionId, canExecute}):
// header with status, progress, elapsed time and cost; the DAG with live node
// colours; a step's details in a side panel; the timeline; the final result.

import { useQueryClient } from "@tanstack/react-query";
import clsx from "clsx";
import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiError } from "../lib/api";
import { describeRefusal } from "../lib/live";
import { definitionGraph } from "./graph";
import { InputsCard, Outcome } from "./Outcome";
import { runKeys, useExecution, useWorkflowVersion } from "./queries";
import { snapshotFromDetail } from "./reducer";
import { RunCanvas } from "./RunCanvas";
import { RunHeader } from "./RunHeader";
import { StepPanel } from "./StepPanel";
import { createRunStore, RunStoreContext, useRun } from "./store";
import { EXECUTION_TERMINAL, type Definition } from "./types";
import { useLiveExecution } from "./useLiveExecution";

// ECharts is the biggest dependency: the timeline loads after the canvas.
const Gantt = lazy(() => import("./Gantt"));

export interface RunPageProps {
  workflowId: string;
  executionId: string;
  canExecute: boolean;
}

const CARD = "rounded-lg border border-slate-200 bg-white shadow-sm";

export function RunPage(props: RunPageProps) {
  const [store] = useState(createRunStore);
  useLiveExecution(store, props.executionId);
  return (
    <RunStoreContext.Provider value={store}>
      <RunView {...props} />
    </RunStoreContext.Provider>
  );
}

function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className={clsx(CARD, "px-6 py-12 text-center")} role="alert" data-testid="run-empty">
      <h2 className="text-base font-semibold text-slate-900">{title}</h2>
      {children && <div className="mx-auto mt-1 max-w-md text-sm text-slate-500">{children}</div>}
    </div>
  );
}

function RunView({ workflowId, executionId, canExecute }: RunPageProps) {
  const queryClient = useQueryClient();
  const detail = useExecution(workflowId, executionId);
  // The document that ran comes with the execution (a dynamic workflow's generated
  // steps); kept from the first answer, since refetches must not rebuild the graph.
  const [ran, setRan] = useState<Definition | undefined>(undefined);
  useEffect(() => {
    if (!ran && detail.data?.definition) setRan(detail.data.definition);
  }, [ran, detail.data?.definition]);
  const version = useWorkflowVersion(
    workflowId,
    detail.data && !detail.data.definition ? detail.data.version : undefined,
  );
  const definition = ran ?? version.data?.definition;
  const graph = useMemo(() => (definition ? definitionGraph(definition) : null), [definition]);
  const refusal = useRun((s) => s.refusal);
  const ready = useRun((s) => s.ready);
  const status = useRun((s) => s.status);
  const selected = useRun((s) => s.selected);
  const select = useRun((s) => s.select);
  const setLoopTotals = useRun((s) => s.setLoopTotals);
  const setMaxParallel = useRun((s) => s.setMaxParallel);
  const loopIds = useMemo(
    () => graph?.nodes.filter((n) => n.step.type === "loop").map((n) => n.id) ?? [],
    [graph],
  );
  const loopStatuses = useRun((s) => loopIds.map((id) => s.steps[id]?.status ?? "").join(","));

  // What only the REST API has (results, final result, loop sizes) is read again when
  // the run ends and when a loop starts.
  useEffect(() => {
    if (status && EXECUTION_TERMINAL.has(status)) {
      void queryClient.invalidateQueries({ queryKey: runKeys.execution(workflowId, executionId) });
    }
  }, [status, queryClient, workflowId, executionId]);
  useEffect(() => {
    // A loop that started waits for its iterations ("running" from an older server).
    if (/(^|,)(waiting|running)(,|$)/.test(loopStatuses)) {
      void queryClient.invalidateQueries({ queryKey: runKeys.execution(workflowId, executionId) });
    }
  }, [loopStatuses, queryClient, workflowId, executionId]);
  useEffect(() => {
    const totals: Record<string, number> = {};
    for (const s of detail.data?.steps ?? [])
      if (s.iterations?.total) totals[s.id] = s.iterations.total;
    if (Object.keys(totals).length) setLoopTotals(totals);
  }, [detail.data, setLoopTotals]);
  const setEmptyReasons = useRun((s) => s.setEmptyReasons);
  useEffect(() => {
    const reasons: Record<string, string> = {};
    for (const s of detail.data?.steps ?? [])
      if (s.empty_result) reasons[s.id] = s.empty_reason || "empty result";
    if (Object.keys(reasons).length) setEmptyReasons(reasons);
  }, [detail.data, setEmptyReasons]);
  const configuredLimit = Number(detail.data?.config?.max_parallel_steps);
  useEffect(() => {
    if (configuredLimit > 0) setMaxParallel(configuredLimit);
  }, [configuredLimit, setMaxParallel]);

  // The socket does not connect (a proxy without websockets, the server restarting):
  // show the REST detail meanwhile and read it again every few seconds.
  const fallback = useRun((s) => s.fallback);
  const receiveFallback = useRun((s) => s.receiveFallback);
  const connection = useRun((s) => s.connection);
  const waitingForSocket = !refusal && connection !== "open" && (!ready || fallback);
  useEffect(() => {
    if (!waitingForSocket || !detail.data) return;
    const data = detail.data;
    const timer = setTimeout(() => receiveFallback(snapshotFromDetail(data)), fallback ? 0 : 4000);
    return () => clearTimeout(timer);
  }, [waitingForSocket, detail.data, fallback, receiveFallback]);
  const refetchDetail = detail.refetch;
  useEffect(() => {
    if (!fallback || !waitingForSocket || (status && EXECUTION_TERMINAL.has(status))) return;
    const timer = setInterval(() => void refetchDetail(), 5000);
    return () => clearInterval(timer);
  }, [fallback, waitingForSocket, status, refetchDetail]);

  // Closing the side panel (its button or Esc) gives focus back to the step's node.
  const closePanel = useCallback(() => {
    const stepId = selected;
    select(null);
    if (stepId) {
      requestAnimationFrame(() =>
        document
          .querySelector<HTMLElement>(`[data-step-id="${CSS.escape(stepId)}"] button`)
          ?.focus(),
      );
    }
  }, [selected, select]);
  useEffect(() => {
    if (!selected) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape" && !document.querySelector("dialog[open]")) closePanel();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [selected, closePanel]);

  // A refusal after the view was shown (a session that expired) keeps what is on screen;
  // the header says live updates stopped.
  const notFound =
    (refusal?.code === 4404 && !ready) ||
    (detail.error instanceof ApiError &&
      (detail.error.status === 404 || detail.error.status === 403));
  if (notFound) {
    return (
      <EmptyState title="Run not found">
        This run does not exist, or you do not have access to it.{" "}
        <a
          className="text-brand-600 underline hover:text-brand-700"
          href={`/workflows/${encodeURIComponent(workflowId)}/runs/`}
        >
          See all runs of this workflow
        </a>
        .
      </EmptyState>
    );
  }
  if (refusal && !ready) {
    return (
      <EmptyState title="Live updates are unavailable">{describeRefusal(refusal.code)}</EmptyState>
    );
  }
  if (detail.isError) {
    return (
      <EmptyState title="Could not load this run">
        {detail.error.message}{" "}
        <button
          type="button"
          className="text-brand-600 underline"
          onClick={() => void detail.refetch()}
        >
          Try again
        </button>
      </EmptyState>
    );
  }

  const stepDef = selected ? graph?.nodes.find((n) => n.id === selected)?.step : undefined;
  const stepDeps = selected
    ? (graph?.edges.filter((e) => e.target === selected).map((e) => e.source) ?? [])
    : [];
  return (
    <div className="space-y-4" data-testid="run-page" data-execution-id={executionId}>
      <RunHeader
        workflowId={workflowId}
        executionId={executionId}
        canExecute={canExecute}
        detail={detail.data}
      />
      <div className="flex flex-col gap-4 lg:flex-row">
        <div className={clsx(CARD, "relative h-[520px] min-w-0 flex-1 overflow-hidden")}>
          {version.isError ? (
            <div
              className="flex h-full items-center justify-center text-sm text-red-600"
              role="alert"
            >
              Could not load the workflow definition: {version.error.message}
            </div>
          ) : !graph || !definition || !ready ? (
            <div className="flex h-full items-center justify-center text-sm text-slate-400">
              Loading the run…
            </div>
          ) : (
            <RunCanvas definition={definition} nodes={graph.nodes} edges={graph.edges} />
          )}
        </div>
        {selected && (
          <div className="h-[520px] w-full shrink-0 lg:w-96">
            <StepPanel
              key={selected}
              stepId={selected}
              step={stepDef}
              dependsOn={stepDeps}
              detail={detail.data}
              detailFetching={detail.isFetching}
              refetchDetail={() => void detail.refetch()}
              onClose={closePanel}
            />
          </div>
        )}
      </div>
      {graph && ready && (
        <section className={clsx(CARD, "px-4 py-3")} aria-labelledby="timeline-title">
          <h2 id="timeline-title" className="mb-1 text-sm font-semibold text-slate-800">
            Timeline
          </h2>
          <Suspense fallback={<div className="h-[140px]" aria-hidden="true" />}>
            <Gantt nodes={graph.nodes} />
          </Suspense>
        </section>
      )}
      <Outcome detail={detail.data} />
      {detail.data && <InputsCard detail={detail.data} />}
      <SeqMarker />
    </div>
  );
}

/** The last event seq applied, for tests and the benchmark (its own component: only it
 * re-renders per event). */
function SeqMarker() {
  const lastSeq = useRun((s) => s.lastSeq);
  const ignored = useRun((s) => s.ignored);
  return <span hidden data-testid="run-seq" data-last-seq={lastSeq} data-ignored={ignored} />;
}
