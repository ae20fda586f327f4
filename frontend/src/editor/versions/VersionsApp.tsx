// The versions island: list a workflow's versions, pick two, see what changed
// on a read-only canvas (added green, removed red, changed amber) and as a
// list of field changes per step.
import { useQueryClient } from "@tanstack/react-query";
import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import clsx from "clsx";
import { useEffect, useMemo, useState } from "react";
import { definitionToEdges, NodeCache, type DagEdge, type StepFlowNode } from "../../dag/convert";
import { diffDefinitions, unionDefinition, type FieldChange } from "../../dag/diff";
import { quickLayout } from "../../dag/layout";
import { nodeTypes } from "../../dag/StepNode";
import type { DiffStatus } from "../../dag/types";
import { api } from "../../lib/api";
import { announceWorkflowChanged } from "../../lib/workflowHeader";
import { useVersion, useVersions } from "../queries";

export interface VersionsProps {
  workflowId: string;
  canModify: boolean;
}

const STATUS_STYLE: Record<string, string> = {
  added: "bg-emerald-100 text-emerald-800 border-emerald-300",
  removed: "bg-red-100 text-red-800 border-red-300",
  changed: "bg-amber-100 text-amber-800 border-amber-300",
};

const MINIMAP_COLOR: Record<string, string> = {
  added: "#10b981",
  removed: "#ef4444",
  changed: "#f59e0b",
  unchanged: "#94a3b8",
};

function show(value: unknown): string {
  if (value === undefined) return "—";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

function Changes({ changes }: { changes: FieldChange[] }) {
  return (
    <ul className="mt-1 space-y-0.5">
      {changes.map((c) => (
        <li key={c.path} className="text-xs">
          <span className="font-mono font-medium text-slate-700">{c.path}</span>:{" "}
          <span className="rounded bg-red-50 px-1 text-red-800 line-through decoration-red-300">
            {show(c.before)}
          </span>{" "}
          → <span className="rounded bg-emerald-50 px-1 text-emerald-800">{show(c.after)}</span>
        </li>
      ))}
    </ul>
  );
}

function DiffCanvas({ nodes, edges }: { nodes: StepFlowNode[]; edges: DagEdge[] }) {
  return (
    <ReactFlow<StepFlowNode, DagEdge>
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      nodesDraggable={false}
      nodesConnectable={false}
      elementsSelectable={false}
      deleteKeyCode={null}
      fitView
      fitViewOptions={{ maxZoom: 1, padding: 0.15 }}
      minZoom={0.05}
      proOptions={{ hideAttribution: true }}
      aria-label="Version diff canvas"
    >
      <Background variant={BackgroundVariant.Dots} gap={18} size={1} color="#cbd5e1" />
      <MiniMap
        ariaLabel="Mini map"
        nodeColor={(n) => MINIMAP_COLOR[(n as StepFlowNode).data.diff ?? "unchanged"] ?? "#94a3b8"}
      />
      <Controls showInteractive={false} />
    </ReactFlow>
  );
}

export function VersionsApp({ workflowId, canModify }: VersionsProps) {
  const versions = useVersions(workflowId);
  const list = versions.data ?? [];
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  useEffect(() => {
    if (!list.length || to !== null) return;
    const numbers = list.map((v) => v.number).sort((a, b) => b - a);
    setTo(numbers[0]);
    setFrom(numbers[1] ?? numbers[0]);
  }, [list, to]);
  const before = useVersion(workflowId, from);
  const after = useVersion(workflowId, to);
  const queryClient = useQueryClient();
  const [restoring, setRestoring] = useState<string | null>(null);

  const diff = useMemo(
    () =>
      before.data && after.data
        ? diffDefinitions(before.data.definition, after.data.definition)
        : null,
    [before.data, after.data],
  );
  const { nodes, edges } = useMemo(() => {
    if (!before.data || !after.data || !diff) return { nodes: [], edges: [] };
    const union = unionDefinition(before.data.definition, after.data.definition);
    const status = new Map<string, DiffStatus>(diff.steps.map((s) => [s.id, s.status]));
    return {
      nodes: new NodeCache().nodes(union, { fallback: quickLayout(union.steps), diff: status }),
      edges: definitionToEdges(union.steps),
    };
  }, [before.data, after.data, diff]);

  const restore = async (number: number) => {
    if (!window.confirm(`Make version ${number} the current version again (as a new version)?`))
      return;
    try {
      setRestoring(null);
      const version = await api<{ definition: Record<string, unknown> }>(
        `/workflows/${workflowId}/versions/${number}`,
      );
      await api(`/workflows/${workflowId}`, {
        method: "PUT",
        body: { ...version.definition, change_note: `Restored version ${number}` },
      });
      announceWorkflowChanged(workflowId);
      await queryClient.invalidateQueries({ queryKey: ["workflow-versions", workflowId] });
      setTo(null);
    } catch (e) {
      setRestoring(e instanceof Error ? e.message : String(e));
    }
  };

  if (versions.isError)
    return (
      <div
        role="alert"
        className="rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-800"
      >
        Could not load the versions: {versions.error.message}
      </div>
    );
  if (versions.isLoading) return <p className="text-sm text-slate-500">Loading versions…</p>;

  const changed = diff?.steps.filter((s) => s.status !== "unchanged") ?? [];
  const sorted = [...list].sort((a, b) => b.number - a.number);

  return (
    <div className="space-y-4" data-testid="versions">
      <section
        className="rounded-lg border border-slate-200 bg-white shadow-sm"
        aria-label="Versions"
      >
        <table className="w-full text-left text-sm">
          <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
            <tr>
              <th className="px-3 py-2">Version</th>
              <th className="px-3 py-2">Change note</th>
              <th className="px-3 py-2">Author</th>
              <th className="px-3 py-2">Saved</th>
              <th className="px-3 py-2">Steps</th>
              <th className="px-3 py-2 text-center">From</th>
              <th className="px-3 py-2 text-center">To</th>
              {canModify && <th className="px-3 py-2" />}
            </tr>
          </thead>
          <tbody>
            {sorted.map((v) => (
              <tr
                key={v.number}
                className={clsx(
                  "border-b border-slate-100 last:border-0",
                  (v.number === from || v.number === to) && "bg-brand-50/50",
                )}
              >
                <td className="px-3 py-2 font-medium text-slate-900">
                  v{v.number}{" "}
                  <span className="text-xs font-normal text-slate-500">({v.version})</span>
                </td>
                <td className="px-3 py-2 text-slate-700">
                  {v.change_note || <span className="text-slate-400">—</span>}
                </td>
                <td className="px-3 py-2 text-slate-600">{v.author}</td>
                <td className="px-3 py-2 text-slate-600">
                  {new Date(v.created_at).toLocaleString()}
                </td>
                <td className="px-3 py-2 text-slate-600">{v.step_count}</td>
                <td className="px-3 py-2 text-center">
                  <input
                    type="radio"
                    name="from"
                    aria-label={`Compare from version ${v.number}`}
                    checked={from === v.number}
                    onChange={() => setFrom(v.number)}
                  />
                </td>
                <td className="px-3 py-2 text-center">
                  <input
                    type="radio"
                    name="to"
                    aria-label={`Compare to version ${v.number}`}
                    checked={to === v.number}
                    onChange={() => setTo(v.number)}
                  />
                </td>
                {canModify && (
                  <td className="px-3 py-2 text-right">
                    {v.number !== sorted[0]?.number && (
                      <button
                        type="button"
                        onClick={() => void restore(v.number)}
                        className="rounded-md border border-slate-300 bg-white px-2 py-1 text-xs font-medium text-slate-700 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-brand-500"
                      >
                        Restore
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        {restoring && (
          <p role="alert" className="px-3 py-2 text-sm text-red-700">
            {restoring}
          </p>
        )}
      </section>

      <section
        className="flex h-[60vh] min-h-[420px] overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm"
        aria-label="Differences"
      >
        <div className="relative min-w-0 flex-1" data-testid="diff-canvas">
          <div className="absolute left-3 top-3 z-10 flex gap-2 text-xs">
            {(["added", "removed", "changed"] as const).map((s) => (
              <span
                key={s}
                className={clsx("rounded-full border px-2 py-0.5 font-medium", STATUS_STYLE[s])}
              >
                {s}
              </span>
            ))}
          </div>
          {before.isLoading || after.isLoading ? (
            <p className="p-6 text-sm text-slate-500">Loading…</p>
          ) : (
            <ReactFlowProvider>
              <DiffCanvas key={`${from}-${to}`} nodes={nodes} edges={edges} />
            </ReactFlowProvider>
          )}
        </div>
        <aside
          className="w-[380px] shrink-0 overflow-y-auto border-l border-slate-200 p-3"
          aria-label="Changes"
        >
          <h2 className="text-sm font-semibold text-slate-900">
            {from === to ? `Version ${to}` : `Changes from v${from} to v${to}`}
          </h2>
          {diff && from !== to && changed.length === 0 && diff.workflow.length === 0 && (
            <p className="mt-2 text-sm text-slate-500">No differences.</p>
          )}
          {diff && diff.workflow.length > 0 && (
            <div className="mt-2 rounded-md border border-slate-200 p-2">
              <div className="text-xs font-semibold text-slate-700">Workflow settings</div>
              <Changes changes={diff.workflow} />
            </div>
          )}
          <ul className="mt-2 space-y-2" data-testid="step-changes">
            {changed.map((s) => (
              <li
                key={s.id}
                className="rounded-md border border-slate-200 p-2"
                data-testid={`change-${s.id}`}
              >
                <div className="flex items-center gap-2">
                  <span className="font-mono text-sm font-medium text-slate-900">{s.id}</span>
                  <span
                    className={clsx(
                      "ml-auto rounded-full border px-2 py-0.5 text-xs font-medium",
                      STATUS_STYLE[s.status],
                    )}
                  >
                    {s.status}
                  </span>
                </div>
                {s.changes.length > 0 && <Changes changes={s.changes} />}
              </li>
            ))}
          </ul>
        </aside>
      </section>
    </div>
  );
}
