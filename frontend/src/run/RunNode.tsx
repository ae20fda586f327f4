// One step on the run canvas. Memoized, and subscribed to its own slice of the live
// store (its step run, its children's counts, whether it is selected): an event for
// another step does not re-render it.

import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import clsx from "clsx";
import { memo } from "react";
import { loopSummary } from "./reducer";
import { statusStyle } from "./status";
import { StatusMark } from "./StatusMark";
import { useRun } from "./store";
import type { WaitingReason } from "./types";
import { useWaiting } from "./useWaiting";

export type RunNodeData = {
  stepId: string;
  label: string;
  stepType: string;
  /** Model or function the step uses, for the subtitle. */
  detail: string;
  /** The steps it depends on (for "Waiting for …" as they finish). */
  dependsOn: string[];
};

export type RunFlowNode = Node<RunNodeData, "run">;

declare global {
  interface Window {
    /** Render count per step id (read by the render benchmark). */
    __prsmNodeRenders?: Record<string, number>;
  }
}

function countRender(stepId: string): void {
  const counts = (window.__prsmNodeRenders ??= {});
  counts[stepId] = (counts[stepId] ?? 0) + 1;
}

const TYPE_LABELS: Record<string, string> = {
  inference: "Inference",
  data_processing: "Data processing",
  aggregation: "Aggregation",
  conditional: "Conditional",
  loop: "Loop",
  parallel_processing: "Parallel",
  data_collection: "Data collection",
};

export function LoopSummaryLine({ stepId }: { stepId: string }) {
  const counts = useRun((s) => s.children[stepId]);
  const known = useRun((s) => s.loopTotals[stepId]);
  const sum = loopSummary(counts, known);
  if (!sum.total) return <span className="text-slate-400">No iterations yet</span>;
  return (
    <span className="flex flex-wrap items-center gap-x-2" data-loop-summary="">
      <span className="text-emerald-700" data-count="done">
        {sum.done}/{sum.total} done
      </span>
      {sum.running > 0 && (
        <span className="text-blue-700" data-count="running">
          {sum.running} running
        </span>
      )}
      {sum.failed > 0 && (
        <span className="text-red-700" data-count="failed">
          {sum.failed} failed
        </span>
      )}
    </span>
  );
}

function BranchLine({ stepId }: { stepId: string }) {
  const yes = useRun((s) => s.steps[`${stepId}.if_true`]?.status);
  const no = useRun((s) => s.steps[`${stepId}.if_false`]?.status);
  const taken =
    yes && yes !== "skipped" && yes !== "pending"
      ? "if_true"
      : no && no !== "skipped" && no !== "pending"
        ? "if_false"
        : null;
  if (!taken) return null;
  return <span className="text-slate-500">Branch: {taken === "if_true" ? "true" : "false"}</span>;
}

/** A warning that the step completed with an empty result, and why (its tooltip too). */
function EmptyResultBadge({ reason }: { reason: string | undefined }) {
  if (!reason) return null;
  return (
    <span
      className="mt-1 flex items-center gap-1 truncate rounded bg-amber-50 px-1.5 py-0.5 text-[11px] font-medium text-amber-800 ring-1 ring-amber-200"
      title={reason}
      data-testid="empty-result"
      role="status"
    >
      <span aria-hidden="true">⚠</span>
      <span className="truncate">{reason}</span>
    </span>
  );
}

/** Why the step waits, on one line; the whole message in its tooltip. */
function WaitingLine({ waiting }: { waiting: WaitingReason }) {
  const warn =
    waiting.reason === "stalled" || (waiting.reason === "queue" && waiting.consumers === 0);
  return (
    <span
      className={clsx("block truncate", warn ? "text-red-700" : "text-slate-500")}
      title={waiting.message}
      data-waiting={waiting.reason}
    >
      {waiting.message}
    </span>
  );
}

function RunNodeView({ data }: NodeProps<RunFlowNode>) {
  const { stepId, stepType } = data;
  countRender(stepId);
  const step = useRun((s) => s.steps[stepId]);
  const selected = useRun((s) => s.selected === stepId);
  // said by the step's completed event, or by the detail API (a page opened later)
  const empty = useRun((s) => s.steps[stepId]?.emptyReason ?? s.emptyReasons[stepId]);
  const waiting = useWaiting({ key: stepId, stepType, dependsOn: data.dependsOn });
  const status = step?.status ?? "pending";
  const style = statusStyle(status);
  // A composite's own children are its summary line; any other reason is worth a line.
  const composite = stepType === "loop" || stepType === "conditional";
  const waitingLine = waiting && !(composite && waiting.reason === "children") ? waiting : null;
  return (
    <div
      className={clsx(
        "w-[220px] rounded-lg border-2 bg-white shadow-sm transition-colors",
        style.border,
        selected && "ring-2 ring-brand-500 ring-offset-2",
      )}
      data-step-id={stepId}
      data-status={status}
    >
      <Handle
        type="target"
        position={Position.Left}
        isConnectable={false}
        className="!h-2 !w-2 !border-0 !bg-slate-300"
      />
      {/* The click (mouse, Enter or Space) bubbles to React Flow's onNodeClick, which
          selects the step; React Flow only lets pointer events reach a node that has
          a click handler when nodes are neither draggable nor selectable. */}
      <button
        type="button"
        className="nodrag nopan block w-full cursor-pointer rounded-md px-3 py-2 text-left focus-visible:outline-2 focus-visible:outline-brand-500"
        aria-label={`${data.label}: ${style.label}${waiting ? `. ${waiting.message}` : ""}${empty ? `. Warning: ${empty}` : ""}. Show details`}
        aria-pressed={selected}
      >
        <span className="flex items-center justify-between gap-2">
          <span className="truncate text-sm font-semibold text-slate-800" title={data.label}>
            {data.label}
          </span>
          <span
            className={clsx(
              "inline-flex shrink-0 items-center gap-1 rounded-full px-2 py-0.5 text-[11px] font-medium ring-1",
              style.badge,
            )}
            title={style.short ? style.label : undefined}
          >
            <StatusMark style={style} />
            {style.short ?? style.label}
          </span>
        </span>
        <span className="mt-0.5 block truncate text-xs text-slate-500">
          {TYPE_LABELS[data.stepType] ?? data.stepType}
          {data.detail ? ` · ${data.detail}` : ""}
        </span>
        <span className="mt-1 block text-xs">
          {waitingLine ? (
            <WaitingLine waiting={waitingLine} />
          ) : data.stepType === "loop" ? (
            <LoopSummaryLine stepId={stepId} />
          ) : data.stepType === "conditional" ? (
            <BranchLine stepId={stepId} />
          ) : step && (status === "failed" || status === "retrying") && step.errorType ? (
            <span className={status === "failed" ? "text-red-700" : "text-amber-700"}>
              {step.errorType}
              {step.attempt > 1 ? ` · attempt ${step.attempt}` : ""}
            </span>
          ) : step && step.attempt > 1 ? (
            <span className="text-amber-700">Attempt {step.attempt}</span>
          ) : null}
        </span>
        <EmptyResultBadge reason={empty} />
      </button>
      <Handle
        type="source"
        position={Position.Right}
        isConnectable={false}
        className="!h-2 !w-2 !border-0 !bg-slate-300"
      />
    </div>
  );
}

export const RunNode = memo(RunNodeView);

/** At module scope, as React Flow wants: a new object each render would remount nodes. */
export const nodeTypes = { run: RunNode };
