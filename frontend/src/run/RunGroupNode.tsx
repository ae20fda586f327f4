// Conditionals and loops on the run canvas, drawn as the editor draws them: a group
// with its true/false branches (the taken branch's edge highlighted, the other
// dimmed and marked skipped) or with its body and each iteration's state. Every
// part subscribes to its own slice of the live store.

import {
  BaseEdge,
  getBezierPath,
  Handle,
  Position,
  type Edge,
  type EdgeProps,
  type Node,
  type NodeProps,
} from "@xyflow/react";
import clsx from "clsx";
import { memo } from "react";
import { useShallow } from "zustand/react/shallow";
import { GROUP_HEADER, innerPosition, NODE_HEIGHT, NODE_WIDTH } from "../dag/convert";
import { LoopSummaryLine } from "./RunNode";
import { statusStyle } from "./status";
import { StatusMark } from "./StatusMark";
import { useRun } from "./store";
import type { StepLive, StepStatus } from "./types";

export type Branch = "if_true" | "if_false";

export type RunGroupData = {
  stepId: string;
  label: string;
  stepType: "conditional" | "loop";
  /** The condition, or what the loop iterates over. */
  detail: string;
  /** A loop's max_iterations and whether its iterations run in parallel. */
  maxIterations?: number;
  parallel?: boolean;
  /** What the loop body runs (model or function). */
  body?: string;
};
export type RunGroupNode = Node<RunGroupData, "runGroup">;

export type RunBranchData = {
  parent: string;
  branch: Branch;
  /** The branch step's model or function. */
  detail: string;
  label: string;
};
export type RunBranchNode = Node<RunBranchData, "runBranch">;

export type RunBranchEdge = Edge<{ runKey: string }, "runBranch">;

/** Whether a branch ran (taken), was skipped (not taken), or is not decided yet. */
export type BranchState = "taken" | "not-taken" | "undecided";

export function branchState(status: StepStatus | undefined): BranchState {
  if (!status || status === "pending" || status === "ready") return "undecided";
  if (status === "skipped") return "not-taken";
  return "taken";
}

/** How many iterations are drawn as squares on the node; more are summarised. */
const NODE_SQUARES = 48;

function Iterations({ stepId }: { stepId: string }) {
  const runs = useRun(
    useShallow((s) => {
      const out: StepLive[] = [];
      for (const run of Object.values(s.steps))
        if (run.stepId === stepId && run.iteration !== null) out.push(run);
      return out.sort((a, b) => (a.iteration ?? 0) - (b.iteration ?? 0)).slice(0, NODE_SQUARES);
    }),
  );
  if (!runs.length) return null;
  return (
    <ul className="mt-1 flex flex-wrap gap-1" aria-label="Iterations" data-testid="node-iterations">
      {runs.map((run) => {
        const style = statusStyle(run.status);
        return (
          <li
            key={run.key}
            className={clsx("h-3 w-3 rounded-sm", style.dot)}
            title={`Iteration ${run.iteration}: ${style.label}`}
            data-status={run.status}
            data-iteration={run.iteration}
          />
        );
      })}
    </ul>
  );
}

function TakenLine({ stepId }: { stepId: string }) {
  const yes = useRun((s) => branchState(s.steps[`${stepId}.if_true`]?.status));
  const no = useRun((s) => branchState(s.steps[`${stepId}.if_false`]?.status));
  const taken = yes === "taken" ? "true" : no === "taken" ? "false" : null;
  return taken ? (
    <span className="text-slate-600" data-taken={taken}>
      Took the <b>{taken}</b> branch
    </span>
  ) : (
    <span className="text-slate-400">Not decided yet</span>
  );
}

function RunGroupView({ data }: NodeProps<RunGroupNode>) {
  const { stepId, stepType } = data;
  const status = useRun((s) => s.steps[stepId]?.status ?? "pending");
  const selected = useRun((s) => s.selected === stepId);
  const style = statusStyle(status);
  return (
    <div
      className={clsx(
        "relative h-full w-full rounded-xl border-2 bg-slate-50/80 shadow-sm",
        style.border,
        selected && "ring-2 ring-brand-500 ring-offset-2",
      )}
      data-step-id={stepId}
      data-status={status}
      data-group={stepType}
    >
      <Handle
        type="source"
        position={Position.Right}
        isConnectable={false}
        className="!h-2 !w-2 !border-0 !bg-slate-300"
      />
      <Handle
        type="target"
        position={Position.Left}
        isConnectable={false}
        className="!h-2 !w-2 !border-0 !bg-slate-300"
      />
      <button
        type="button"
        className="nodrag nopan block w-full cursor-pointer rounded-t-lg px-3 pt-2 text-left focus-visible:outline-2 focus-visible:outline-brand-500"
        style={{ minHeight: GROUP_HEADER - 6 }}
        aria-label={`${data.label}: ${style.label}. Show details`}
        aria-pressed={selected}
      >
        <span className="flex items-center justify-between gap-2">
          <span className="truncate text-sm font-semibold text-slate-800" title={data.label}>
            {stepType === "loop" ? "↻" : "◇"} {data.label}
          </span>
          <span
            className={clsx(
              "inline-flex shrink-0 items-center gap-1 rounded-full px-2 py-0.5 text-[11px] font-medium ring-1",
              style.badge,
            )}
          >
            <StatusMark style={style} />
            {style.short ?? style.label}
          </span>
        </span>
        <span
          className="mt-0.5 block truncate font-mono text-[11px] text-slate-500"
          title={data.detail}
        >
          {stepType === "loop" ? `over ${data.detail}` : `if ${data.detail}`}
        </span>
        {stepType === "loop" && (
          <span className="mt-1 block text-xs">
            <LoopSummaryLine stepId={stepId} />
          </span>
        )}
      </button>
      {stepType === "loop" ? (
        <div className="px-3 pb-2 text-xs text-slate-600">
          <span className="text-slate-500">
            Each item: {data.body || "—"} · at most {data.maxIterations ?? 100}
            {data.parallel ? " · in parallel" : " · in order"}
          </span>
          <Iterations stepId={stepId} />
        </div>
      ) : (
        <>
          {(["if_true", "if_false"] as const).map((branch) => (
            <span
              key={branch}
              className={clsx(
                "absolute rounded px-1.5 py-0.5 text-[11px] font-semibold ring-1",
                branch === "if_true"
                  ? "bg-emerald-50 text-emerald-800 ring-emerald-300"
                  : "bg-red-50 text-red-800 ring-red-300",
              )}
              style={{ left: 8, top: innerPosition(branch).y + NODE_HEIGHT / 2 - 10 }}
            >
              {branch === "if_true" ? "true" : "false"}
            </span>
          ))}
          {(["if_true", "if_false"] as const).map((branch) => (
            <Handle
              key={branch}
              type="source"
              id={branch}
              position={Position.Right}
              isConnectable={false}
              className="!h-2 !w-2 !border-0 !bg-slate-400"
              style={{ left: 50, right: "auto", top: innerPosition(branch).y + NODE_HEIGHT / 2 }}
            />
          ))}
          <span className="absolute bottom-1 right-3 text-[11px]">
            <TakenLine stepId={stepId} />
          </span>
        </>
      )}
    </div>
  );
}

function RunBranchView({ data }: NodeProps<RunBranchNode>) {
  const key = `${data.parent}.${data.branch}`;
  const status = useRun((s) => s.steps[key]?.status ?? "pending");
  const state = branchState(status);
  const style = statusStyle(status);
  return (
    <div
      className={clsx(
        "rounded-lg border-2 bg-white px-3 py-2 shadow-sm transition-opacity",
        style.border,
        state === "not-taken" && "opacity-50",
      )}
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
      data-branch-key={key}
      data-status={status}
      data-branch-state={state}
    >
      <Handle
        type="target"
        position={Position.Left}
        isConnectable={false}
        className="!h-2 !w-2 !border-0 !bg-slate-300"
      />
      <span className="flex items-center justify-between gap-2">
        <span className="truncate text-sm font-semibold text-slate-800">{data.label}</span>
        <span
          className={clsx(
            "inline-flex shrink-0 items-center gap-1 rounded-full px-2 py-0.5 text-[11px] font-medium ring-1",
            style.badge,
          )}
        >
          <StatusMark style={style} />
          {state === "not-taken" ? "Not taken" : (style.short ?? style.label)}
        </span>
      </span>
      <span className="mt-0.5 block truncate text-xs text-slate-500">{data.detail}</span>
    </div>
  );
}

function RunBranchEdgeView(props: EdgeProps<RunBranchEdge>) {
  const status = useRun((s) => (props.data ? s.steps[props.data.runKey]?.status : undefined));
  const state = branchState(status);
  const [path] = getBezierPath(props);
  const stroke =
    state === "taken"
      ? props.sourceHandleId === "if_false"
        ? "#dc2626"
        : "#059669"
      : state === "not-taken"
        ? "#cbd5e1"
        : "#94a3b8";
  return (
    <g data-branch-edge={props.data?.runKey} data-branch-state={state}>
      <BaseEdge
        id={props.id}
        path={path}
        style={{
          stroke,
          strokeWidth: state === "taken" ? 3 : 1.5,
          strokeDasharray: state === "not-taken" ? "4 4" : undefined,
          opacity: state === "not-taken" ? 0.6 : 1,
        }}
      />
    </g>
  );
}

export const RunGroup = memo(RunGroupView);
export const RunBranch = memo(RunBranchView);
export const RunBranchEdgeComponent = memo(RunBranchEdgeView);

export const runEdgeTypes = { runBranch: RunBranchEdgeComponent };
