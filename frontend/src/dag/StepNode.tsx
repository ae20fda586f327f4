// The step card drawn on the canvas (editor, versions diff, run view).
import { Handle, Position, type NodeProps } from "@xyflow/react";
import clsx from "clsx";
import { memo } from "react";
import type { StepFlowNode } from "./convert";
import { ConditionalNode, LoopNode } from "./GroupNodes";
import { STATUS_STYLE } from "./statusStyle";
import { STEP_TYPE_ICON, STEP_TYPE_LABEL } from "./types";

const DIFF_STYLE: Record<string, string> = {
  added: "border-emerald-500 bg-emerald-50 ring-1 ring-emerald-500",
  removed: "border-red-500 bg-red-50 ring-1 ring-red-500 opacity-80",
  changed: "border-amber-500 bg-amber-50 ring-1 ring-amber-500",
  unchanged: "border-slate-200 bg-white",
};

export { STATUS_STYLE } from "./statusStyle";

const DIFF_LABEL: Record<string, string> = {
  added: "Added",
  removed: "Removed",
  changed: "Changed",
};

function subtitle(step: StepFlowNode["data"]["step"]): string {
  if (step.model) return step.model;
  if (step.function) return step.function;
  if (typeof step.condition === "string") return step.condition;
  if (typeof step.iterate_over === "string") return `over ${step.iterate_over}`;
  return "";
}

/** bench/editor.py sets `window.__prsmNodeRenders = {}` to count node renders. */
function countRender(id: string): void {
  const counts = (window as { __prsmNodeRenders?: Record<string, number> }).__prsmNodeRenders;
  if (counts) counts[id] = (counts[id] ?? 0) + 1;
}

function StepNodeView({ data, selected, isConnectable }: NodeProps<StepFlowNode>) {
  const { step, issues, diff, status, inner } = data;
  countRender(step.id);
  const errors = issues?.errors.length ?? 0;
  const warnings = issues?.warnings.length ?? 0;
  const sub = subtitle(step);
  const title = [...(issues?.errors ?? []), ...(issues?.warnings ?? [])].join("\n");
  return (
    <div
      className={clsx(
        "h-[80px] w-[232px] overflow-hidden rounded-lg border shadow-sm transition-shadow",
        diff
          ? DIFF_STYLE[diff]
          : status
            ? (STATUS_STYLE[status] ?? "border-slate-200 bg-white")
            : errors > 0
              ? "border-red-400 bg-white"
              : warnings > 0
                ? "border-amber-400 bg-white"
                : "border-slate-200 bg-white",
        selected && "shadow-md ring-2 ring-brand-500",
      )}
      data-testid={`step-node-${step.id}`}
      data-step-id={step.id}
      data-inner={inner?.slot}
      data-diff={diff}
      data-status={status}
      aria-label={`Step ${step.id}`}
    >
      {inner?.slot !== "step" && (
        <Handle
          type="target"
          position={Position.Left}
          isConnectable={isConnectable}
          className="!h-3 !w-3 !border-2 !border-white !bg-slate-400"
          aria-label={`${step.id} input`}
        />
      )}
      <div className="flex items-center gap-2 border-b border-slate-100 px-3 py-1.5">
        <span aria-hidden className="text-brand-600">
          {STEP_TYPE_ICON[step.type] ?? "•"}
        </span>
        <span className="text-[11px] font-medium uppercase tracking-wide text-slate-500">
          {STEP_TYPE_LABEL[step.type] ?? step.type}
        </span>
        <span className="ml-auto flex items-center gap-1">
          {status && (
            <span className="rounded bg-white/80 px-1 text-[10px] font-semibold capitalize text-slate-700">
              {status}
            </span>
          )}
          {diff && diff !== "unchanged" && (
            <span className="rounded bg-white/80 px-1 text-[10px] font-semibold text-slate-700">
              {DIFF_LABEL[diff]}
            </span>
          )}
          {errors > 0 && (
            <span
              className="rounded-full bg-red-600 px-1.5 text-[10px] font-semibold text-white"
              title={title}
              data-testid="node-error-badge"
            >
              {errors}
            </span>
          )}
          {warnings > 0 && (
            <span
              className="rounded-full bg-amber-500 px-1.5 text-[10px] font-semibold text-white"
              title={title}
              data-testid="node-warning-badge"
            >
              {warnings}
            </span>
          )}
        </span>
      </div>
      <div className="px-3 py-1.5" title={title || undefined}>
        <div className="truncate text-sm font-semibold text-slate-900">
          {step.name || (inner ? STEP_TYPE_LABEL[step.type] : step.id)}
        </div>
        <div className="flex gap-1.5 text-xs text-slate-500">
          {step.name && !inner && <span className="shrink-0 font-mono">{step.id}</span>}
          {step.name && sub && <span aria-hidden>·</span>}
          {sub && <span className="truncate">{sub}</span>}
        </div>
      </div>
      {!inner && (
        <Handle
          type="source"
          position={Position.Right}
          isConnectable={isConnectable}
          className="!h-3 !w-3 !border-2 !border-white !bg-brand-500"
          aria-label={`${step.id} output`}
        />
      )}
    </div>
  );
}

export const StepNode = memo(StepNodeView);

/** Module scope, so React Flow never sees a new object. */
export const nodeTypes = {
  step: StepNode,
  inner: StepNode,
  conditional: ConditionalNode,
  loop: LoopNode,
};
