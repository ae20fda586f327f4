// Optimize: goals and constraints → POST /workflows/{id}/optimize → suggestions with
// their reasons and estimated effects; with modify permission, the optimized definition
// can be saved as a new version after a summary of what it changes.
import { useMemo, useState, type FormEvent } from "react";
import { Button, ErrorBanner, Notice, inputClass, labelClass } from "../pages/common/ui";
import { useOptimize, useSaveVersion, useWorkflow } from "./api";
import { diffIsEmpty, diffSummary, type DiffSummary } from "./diff";
import { formatCost, formatDuration, formatPercent } from "./format";
import type { OptimizeResult, Suggestion } from "./types";

const GOALS = [
  { value: "speed", label: "Speed" },
  { value: "cost", label: "Cost" },
  { value: "accuracy", label: "Accuracy" },
];

const KIND_LABELS: Record<string, string> = {
  parallelize: "Run in parallel",
  critical_path: "Critical path",
  cheaper_model: "Cheaper model",
  add_retries: "Retry flaky step",
  max_parallel_steps: "More parallel steps",
};

/** "−12.0 s", "−$0.0600", "failure rate 40.0% → 6.4%" from an estimated_effect object. */
export function effectText(effect: Record<string, unknown> | undefined): string[] {
  if (!effect) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(effect)) {
    if (key === "duration_seconds" && typeof value === "number") {
      if (value) out.push(`${value > 0 ? "−" : "+"}${formatDuration(Math.abs(value))} per run`);
    } else if (key === "cost" && typeof value === "number") {
      if (value) out.push(`${value > 0 ? "−" : "+"}${formatCost(Math.abs(value))} per run`);
    } else if (key === "failure_rate_percent" && value && typeof value === "object") {
      const v = value as { before?: number; after?: number };
      out.push(`failure rate ${formatPercent(v.before)} → ${formatPercent(v.after)}`);
    } else {
      out.push(
        `${key.replace(/_/g, " ")}: ${typeof value === "object" ? JSON.stringify(value) : String(value)}`,
      );
    }
  }
  return out;
}

function SuggestionItem({ s }: { s: Suggestion }) {
  const effects = effectText(s.estimated_effect);
  return (
    <li className="px-4 py-3" data-testid="suggestion" data-kind={s.kind}>
      <div className="flex flex-wrap items-center gap-2">
        <span className="text-sm font-medium text-slate-900">{KIND_LABELS[s.kind] ?? s.kind}</span>
        {s.steps && s.steps.length > 0 && (
          <code className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700">
            {s.steps.join(" → ")}
          </code>
        )}
        <span
          className={
            "rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset " +
            (s.applied
              ? "bg-emerald-50 text-emerald-700 ring-emerald-200"
              : "bg-slate-50 text-slate-600 ring-slate-200")
          }
        >
          {s.applied ? "In the optimized version" : "Advice only"}
        </span>
      </div>
      <p className="mt-1 text-sm text-slate-700">{s.reason}</p>
      {effects.length > 0 && (
        <p className="mt-1 text-xs font-medium text-emerald-700">
          Estimated effect: {effects.join("; ")}
        </p>
      )}
    </li>
  );
}

function DiffList({ diff }: { diff: DiffSummary }) {
  const rows: [string, string[], string][] = [
    ["Added steps", diff.added, "text-emerald-700"],
    ["Removed steps", diff.removed, "text-red-700"],
    ["Changed steps", diff.changed, "text-amber-800"],
    ["Changed workflow settings", diff.fields, "text-amber-800"],
  ];
  return (
    <dl className="space-y-1 text-sm" data-testid="optimize-diff">
      {rows
        .filter(([, ids]) => ids.length)
        .map(([label, ids, tone]) => (
          <div key={label} className="flex flex-wrap gap-2">
            <dt className={`font-medium ${tone}`}>
              {label} ({ids.length}):
            </dt>
            <dd className="font-mono text-xs leading-5 text-slate-700">{ids.join(", ")}</dd>
          </div>
        ))}
    </dl>
  );
}

function SaveVersion({ workflowId, result }: { workflowId: string; result: OptimizeResult }) {
  const workflow = useWorkflow(workflowId);
  const save = useSaveVersion(workflowId);
  const [note, setNote] = useState(
    `Optimized for ${result.optimization_goals.join(", ") || "speed, cost, accuracy"} (from ${result.history_runs} runs)`,
  );
  const diff = useMemo(
    () =>
      workflow.data ? diffSummary(workflow.data.definition, result.optimized_definition) : null,
    [workflow.data, result],
  );
  const stale = workflow.data && workflow.data.version_number !== result.version && !save.isSuccess;
  if (workflow.isPending)
    return <p className="text-sm text-slate-500">Comparing with the current version…</p>;
  if (workflow.isError) return <ErrorBanner error={workflow.error} />;
  if (save.isSuccess)
    return (
      <Notice tone="success">
        Saved as version {save.data.version} (v{save.data.version_number}).{" "}
        <a className="font-medium underline" href={`/workflows/${workflowId}/versions/`}>
          See the versions
        </a>
      </Notice>
    );
  if (!diff) return null;
  if (diffIsEmpty(diff))
    return (
      <p className="text-sm text-slate-600">
        The optimized definition is the same as the current version: nothing to save.
      </p>
    );
  const invalid = result.optimized_definition_valid === false;
  return (
    <div className="space-y-3">
      <h3 className="text-sm font-semibold text-slate-900">
        What saving changes (against v{workflow.data?.version_number})
      </h3>
      <DiffList diff={diff} />
      {stale && (
        <Notice tone="warning">
          The workflow changed since these suggestions were made (now v
          {workflow.data?.version_number}). Optimize again before saving.
        </Notice>
      )}
      {invalid && (
        <ErrorBanner>
          The optimized definition does not validate:{" "}
          {(result.optimized_definition_errors ?? []).map((e) => e.message).join("; ")}
        </ErrorBanner>
      )}
      <form
        className="flex flex-wrap items-end gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate({ definition: result.optimized_definition, changeNote: note });
        }}
      >
        <div className="min-w-64 flex-1">
          <label htmlFor="optimize-note" className={labelClass}>
            Change note
          </label>
          <input
            id="optimize-note"
            className={inputClass}
            maxLength={500}
            value={note}
            onChange={(e) => setNote(e.target.value)}
          />
        </div>
        <Button type="submit" variant="primary" disabled={save.isPending || invalid || !!stale}>
          {save.isPending ? "Saving…" : "Save optimized version"}
        </Button>
      </form>
      {save.isError && <ErrorBanner error={save.error} />}
    </div>
  );
}

function Projection({ result }: { result: OptimizeResult }) {
  const p = result.projected;
  if (!p?.before || !p.after) return null;
  return (
    <p className="text-sm text-slate-700" data-testid="optimize-projection">
      Expected per run: {formatDuration(p.before.duration_seconds)} →{" "}
      <strong>{formatDuration(p.after.duration_seconds)}</strong>, {formatCost(p.before.cost)} →{" "}
      <strong>{formatCost(p.after.cost)}</strong>
      {result.recommended_execution_config &&
        Object.keys(result.recommended_execution_config).length > 0 && (
          <>
            {" "}
            · recommended run settings:{" "}
            <code className="text-xs">{JSON.stringify(result.recommended_execution_config)}</code>
          </>
        )}
    </p>
  );
}

function positive(raw: string): number | undefined | "bad" {
  if (!raw.trim()) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n : "bad";
}

export function OptimizePanel({
  workflowId,
  canModify,
}: {
  workflowId: string;
  canModify: boolean;
}) {
  const [goals, setGoals] = useState<string[]>(["speed", "cost"]);
  const [maxCost, setMaxCost] = useState("");
  const [maxDuration, setMaxDuration] = useState("");
  const [formError, setFormError] = useState<string | null>(null);
  const optimize = useOptimize(workflowId);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const cost = positive(maxCost);
    const duration = positive(maxDuration);
    if (cost === "bad" || duration === "bad") {
      setFormError("Constraints must be positive numbers (or left empty).");
      return;
    }
    setFormError(null);
    const constraints: Record<string, number> = {};
    if (cost !== undefined) constraints.max_cost = cost;
    if (duration !== undefined) constraints.max_duration_seconds = duration;
    optimize.mutate({ optimization_goals: goals, constraints });
  };

  const result = optimize.data;
  return (
    <section
      aria-labelledby="optimize-title"
      className="rounded-lg border border-slate-200 bg-white shadow-sm"
      data-testid="optimize"
    >
      <header className="border-b border-slate-100 px-4 py-3">
        <h2 id="optimize-title" className="text-sm font-semibold text-slate-900">
          Optimize
        </h2>
        <p className="text-xs text-slate-500">
          Suggestions from the last 30 days of runs, each with its reason and estimated effect.
        </p>
      </header>
      <form className="flex flex-wrap items-end gap-x-6 gap-y-3 px-4 py-3" onSubmit={submit}>
        <fieldset>
          <legend className={labelClass}>Goals</legend>
          <div className="mt-1 flex gap-4">
            {GOALS.map((g) => (
              <label key={g.value} className="flex items-center gap-1.5 text-sm text-slate-700">
                <input
                  type="checkbox"
                  className="h-4 w-4 rounded border-slate-300 accent-brand-600 focus-visible:outline-2 focus-visible:outline-brand-500"
                  checked={goals.includes(g.value)}
                  onChange={(e) =>
                    setGoals((prev) =>
                      e.target.checked ? [...prev, g.value] : prev.filter((x) => x !== g.value),
                    )
                  }
                />
                {g.label}
              </label>
            ))}
          </div>
        </fieldset>
        <div className="w-36">
          <label htmlFor="optimize-max-cost" className={labelClass}>
            Max cost per run ($)
          </label>
          <input
            id="optimize-max-cost"
            className={inputClass}
            inputMode="decimal"
            placeholder="none"
            value={maxCost}
            onChange={(e) => setMaxCost(e.target.value)}
          />
        </div>
        <div className="w-40">
          <label htmlFor="optimize-max-duration" className={labelClass}>
            Max duration (seconds)
          </label>
          <input
            id="optimize-max-duration"
            className={inputClass}
            inputMode="decimal"
            placeholder="none"
            value={maxDuration}
            onChange={(e) => setMaxDuration(e.target.value)}
          />
        </div>
        <Button type="submit" variant="primary" disabled={optimize.isPending}>
          {optimize.isPending ? "Optimizing…" : "Suggest optimizations"}
        </Button>
      </form>
      <div className="space-y-3 px-4 pb-4">
        {formError && <ErrorBanner>{formError}</ErrorBanner>}
        {optimize.isError && <ErrorBanner error={optimize.error} />}
        {result && (
          <>
            <Projection result={result} />
            {(result.warnings ?? []).map((w) => (
              <Notice key={w} tone="warning">
                {w}
              </Notice>
            ))}
            {result.suggestions.length ? (
              <ul
                className="divide-y divide-slate-100 rounded-md border border-slate-200"
                aria-label="Suggestions"
              >
                {result.suggestions.map((s, i) => (
                  <SuggestionItem key={`${s.kind}-${i}`} s={s} />
                ))}
              </ul>
            ) : (
              <p className="text-sm text-slate-600" data-testid="no-suggestions">
                No suggestions:{" "}
                {result.history_runs
                  ? `nothing to improve from ${result.history_runs} runs.`
                  : "run the workflow a few times first."}
              </p>
            )}
            {canModify ? (
              <SaveVersion
                key={JSON.stringify(result.optimized_definition)}
                workflowId={workflowId}
                result={result}
              />
            ) : (
              <p className="text-xs text-slate-500">
                You may not modify this workflow, so the optimized version cannot be saved from
                here.
              </p>
            )}
          </>
        )}
      </div>
    </section>
  );
}
