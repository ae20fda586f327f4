// The composite steps drawn on the canvas as groups around their nested steps: a
// conditional with its labelled true/false branches, a loop with its body and
// iteration count. The nested steps are "inner" cards (StepNode) the group holds.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import clsx from "clsx";
import { memo } from "react";
import {
  GROUP_HEADER,
  innerPosition,
  NODE_HEIGHT,
  NODE_WIDTH,
  type InnerSlot,
  type StepFlowNode,
} from "./convert";
import { STATUS_STYLE } from "./statusStyle";
import { STEP_TYPE_ICON, STEP_TYPE_LABEL } from "./types";

/** What the groups ask of the canvas (a context would re-render every group). */
export const groupActions: {
  detach: ((parent: string, slot: InnerSlot) => void) | null;
} = { detach: null };

/** The versions diff's colours (StepNode's, for a group). */
const GROUP_DIFF_STYLE: Record<string, string> = {
  added: "border-emerald-500 bg-emerald-50/80",
  removed: "border-red-500 bg-red-50/80 opacity-80",
  changed: "border-amber-500 bg-amber-50/80",
};

const SLOT_HINT: Record<InnerSlot, string> = {
  if_true: "Connect a step to “true”, or drop one here",
  if_false: "Connect a step to “false”, or drop one here",
  step: "Drag a step in here, or drop one from the palette",
};

function Slot({
  parent,
  slot,
  filled,
  readOnly,
}: {
  parent: string;
  slot: InnerSlot;
  filled: boolean;
  readOnly: boolean;
}) {
  const pos = innerPosition(slot);
  if (filled)
    return readOnly || !groupActions.detach ? null : (
      <button
        type="button"
        className="nodrag absolute rounded px-1 text-[10px] text-slate-500 hover:bg-white hover:text-slate-800"
        style={{ left: 6, top: pos.y + NODE_HEIGHT - 16 }}
        title="Take this step out of the group (it becomes a step of its own)"
        aria-label={`Detach ${slot === "step" ? "the loop body" : slot} of ${parent}`}
        onClick={(e) => {
          e.stopPropagation();
          groupActions.detach?.(parent, slot);
        }}
      >
        ⇱ out
      </button>
    );
  return (
    <div
      className="absolute flex items-center justify-center rounded-lg border border-dashed border-slate-300 bg-white/60 px-3 text-center text-[11px] text-slate-500"
      style={{ left: pos.x, top: pos.y, width: NODE_WIDTH, height: NODE_HEIGHT }}
      data-slot={slot}
      data-parent={parent}
      data-testid={`slot-${parent}-${slot}`}
    >
      {SLOT_HINT[slot]}
    </div>
  );
}

function GroupFrame({
  data,
  selected,
  isConnectable,
  children,
}: NodeProps<StepFlowNode> & { children: React.ReactNode }) {
  const { step, issues, status, diff } = data;
  const errors = issues?.errors.length ?? 0;
  const warnings = issues?.warnings.length ?? 0;
  const title = [...(issues?.errors ?? []), ...(issues?.warnings ?? [])].join("\n");
  return (
    <div
      className={clsx(
        "relative h-full w-full rounded-xl border-2 shadow-sm",
        diff && diff !== "unchanged"
          ? GROUP_DIFF_STYLE[diff]
          : status
            ? (STATUS_STYLE[status] ?? "border-slate-300 bg-slate-50")
            : errors > 0
              ? "border-red-400 bg-slate-50/90"
              : warnings > 0
                ? "border-amber-400 bg-slate-50/90"
                : step.type === "loop"
                  ? "border-violet-300 bg-violet-50/70"
                  : "border-sky-300 bg-sky-50/70",
        selected && "shadow-md ring-2 ring-brand-500",
      )}
      data-testid={`step-node-${step.id}`}
      data-step-id={step.id}
      data-status={status}
      data-diff={diff}
      data-group={step.type}
      aria-label={`${STEP_TYPE_LABEL[step.type] ?? step.type} ${step.id}`}
    >
      {/* The first source handle is the one the group's outgoing edges use. */}
      <Handle
        type="source"
        position={Position.Right}
        isConnectable={isConnectable}
        className="!h-3 !w-3 !border-2 !border-white !bg-brand-500"
        aria-label={`${step.id} output`}
      />
      <Handle
        type="target"
        position={Position.Left}
        isConnectable={isConnectable}
        className="!h-3 !w-3 !border-2 !border-white !bg-slate-400"
        aria-label={`${step.id} input`}
      />
      <div
        className="flex items-center gap-2 px-3 pt-2"
        style={{ height: GROUP_HEADER - 8 }}
        title={title || undefined}
      >
        <span aria-hidden className="text-lg text-brand-600">
          {STEP_TYPE_ICON[step.type]}
        </span>
        <div className="min-w-0 flex-1">
          <div className="flex items-center gap-1.5">
            <span className="text-[11px] font-medium uppercase tracking-wide text-slate-500">
              {STEP_TYPE_LABEL[step.type]}
            </span>
            <span className="truncate text-sm font-semibold text-slate-900">
              {step.name || step.id}
            </span>
            <span className="ml-auto flex shrink-0 items-center gap-1">
              {status && (
                <span className="rounded bg-white/80 px-1 text-[10px] font-semibold capitalize text-slate-700">
                  {status}
                </span>
              )}
              {errors > 0 && (
                <span
                  className="rounded-full bg-red-600 px-1.5 text-[10px] font-semibold text-white"
                  data-testid="node-error-badge"
                >
                  {errors}
                </span>
              )}
              {warnings > 0 && (
                <span
                  className="rounded-full bg-amber-500 px-1.5 text-[10px] font-semibold text-white"
                  data-testid="node-warning-badge"
                >
                  {warnings}
                </span>
              )}
            </span>
          </div>
          {children}
        </div>
      </div>
    </div>
  );
}

function ConditionalView(props: NodeProps<StepFlowNode>) {
  const { step } = props.data;
  const readOnly = !props.isConnectable;
  return (
    <GroupFrame {...props}>
      <div
        className="truncate font-mono text-[11px] text-slate-600"
        title={String(step.condition ?? "")}
      >
        if {typeof step.condition === "string" && step.condition ? step.condition : "…"}
      </div>
      {(["if_true", "if_false"] as const).map((slot) => {
        const y = innerPosition(slot).y + NODE_HEIGHT / 2;
        const yes = slot === "if_true";
        return (
          <div key={slot}>
            <span
              className={clsx(
                "absolute rounded px-1.5 py-0.5 text-[11px] font-semibold ring-1",
                yes
                  ? "bg-emerald-50 text-emerald-800 ring-emerald-300"
                  : "bg-red-50 text-red-800 ring-red-300",
              )}
              style={{ left: 8, top: y - 10 }}
              data-testid={`branch-label-${slot}`}
            >
              {yes ? "true" : "false"}
            </span>
            <Handle
              type="source"
              id={slot}
              position={Position.Right}
              isConnectable={props.isConnectable}
              className={clsx(
                "!h-3 !w-3 !border-2 !border-white",
                yes ? "!bg-emerald-500" : "!bg-red-500",
              )}
              style={{ left: 50, top: y, right: "auto" }}
              aria-label={`${step.id} ${yes ? "true" : "false"} branch`}
            />
            <Slot parent={step.id} slot={slot} filled={!!step[slot]} readOnly={readOnly} />
          </div>
        );
      })}
    </GroupFrame>
  );
}

function LoopView(props: NodeProps<StepFlowNode>) {
  const { step } = props.data;
  const max = typeof step.max_iterations === "number" ? step.max_iterations : 100;
  const over = typeof step.iterate_over === "string" ? step.iterate_over : "…";
  return (
    <GroupFrame {...props}>
      <div className="flex gap-1.5 text-[11px] text-slate-600">
        <span className="truncate font-mono" title={over}>
          over {over}
        </span>
        <span
          className="shrink-0 rounded bg-white/80 px-1 font-semibold text-violet-800"
          data-testid="loop-count"
        >
          ≤ {max} iteration{max === 1 ? "" : "s"}
          {step.parallel ? " · parallel" : ""}
        </span>
      </div>
      <Slot parent={step.id} slot="step" filled={!!step.step} readOnly={!props.isConnectable} />
    </GroupFrame>
  );
}

export const ConditionalNode = memo(ConditionalView);
export const LoopNode = memo(LoopView);
