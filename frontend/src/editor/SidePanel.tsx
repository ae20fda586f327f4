// The right-hand panel: the selected step's form, the workflow's settings, or
// a summary of a multi-selection; and the problems list.
import type { ErrorSchema, UiSchema } from "@rjsf/utils";
import { useReactFlow } from "@xyflow/react";
import clsx from "clsx";
import { lazy, Suspense, useMemo, useState } from "react";
import { dependencies, downstreamOf, upstreamOf, wouldCreateCycle } from "../dag/graph";
import type { Catalog, InputSpec, Issue, StepDef, WorkflowDefinition } from "../dag/types";
import { STEP_TYPE_LABEL, STEP_TYPES } from "../dag/types";
import {
  connect,
  disconnect,
  removeSteps,
  renameProblem,
  renameStep,
  replaceStep,
  setInput,
  setMeta,
} from "./documentActions";
import {
  errorHandlingSchema,
  fieldErrors,
  FIELDS_BY_TYPE,
  INPUT_TYPES,
  stepFormSchema,
} from "./schemas";
import { commit, select, useDocStore, useUiStore } from "./store";
import type { FormContext, ReferenceOption } from "./widgets";

const SchemaForm = lazy(() => import("./RjsfForm"));

function FormFallback() {
  return <p className="text-xs text-slate-400">Loading the form…</p>;
}

type Schema = Record<string, unknown>;

export const inputClass =
  "block w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-1 focus:ring-brand-500 disabled:bg-slate-50 disabled:text-slate-500";
const secondaryButton =
  "rounded-md border border-slate-300 bg-white px-2 py-1 text-xs font-medium text-slate-700 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-brand-500 disabled:opacity-50";
const dangerButton =
  "rounded-md border border-red-300 bg-white px-2 py-1 text-xs font-medium text-red-700 hover:bg-red-50 focus-visible:outline-2 focus-visible:outline-red-500";

const getDoc = () => useDocStore.getState().doc;

function isEmpty(v: unknown): boolean {
  return (
    v === undefined ||
    v === "" ||
    (v !== null &&
      typeof v === "object" &&
      !Array.isArray(v) &&
      Object.keys(v as object).length === 0)
  );
}

export function referenceOptions(
  doc: WorkflowDefinition,
  step: StepDef,
  catalog?: Catalog,
): ReferenceOption[] {
  const out: ReferenceOption[] = [];
  for (const name of Object.keys(doc.input_schema ?? {}))
    out.push({
      value: `\${workflow.input.${name}}`,
      label: `workflow.input.${name}`,
      group: "Workflow inputs",
    });
  const deps = dependencies(doc.steps);
  const down = downstreamOf(deps, step.id);
  const up = upstreamOf(deps, step.id);
  const ordered = [...doc.steps].sort((a, b) => Number(up.has(b.id)) - Number(up.has(a.id)));
  for (const other of ordered) {
    if (other.id === step.id || down.has(other.id)) continue;
    const group = up.has(other.id) ? "Upstream steps" : "Other steps (adds a dependency)";
    out.push({ value: `\${${other.id}.result}`, label: `${other.id}.result`, group });
    const fn = other.function
      ? catalog?.functions.find((f) => f.name === other.function)
      : undefined;
    const props = (fn?.output as Schema | undefined)?.properties as Schema | undefined;
    for (const field of Object.keys(props ?? {}))
      out.push({
        value: `\${${other.id}.result.${field}}`,
        label: `${other.id}.result.${field}`,
        group,
      });
  }
  if (step.type === "loop") {
    out.push({ value: "${loop.current_item}", label: "loop.current_item", group: "Loop" });
    out.push({ value: "${loop.index}", label: "loop.index", group: "Loop" });
  }
  return out;
}

const TEXT_UI = { "ui:widget": "refText" };

function stepUiSchema(type: string): UiSchema {
  return {
    "ui:submitButtonOptions": { norender: true },
    "ui:order": [...(FIELDS_BY_TYPE[type] ?? []), "*"],
    description: { "ui:widget": "textarea", "ui:options": { rows: 2 } },
    model: { "ui:widget": "model" },
    input: TEXT_UI,
    condition: TEXT_UI,
    iterate_over: TEXT_UI,
    inputs: { additionalProperties: TEXT_UI },
    if_true: { input: TEXT_UI, model: { "ui:widget": "model" } },
    if_false: { input: TEXT_UI, model: { "ui:widget": "model" } },
    step: { input: TEXT_UI, model: { "ui:widget": "model" } },
  };
}

function IssueList({ issues, onPick }: { issues: Issue[]; onPick?: (issue: Issue) => void }) {
  if (!issues.length) return null;
  return (
    <ul className="space-y-1" aria-label="Problems">
      {issues.map((issue, i) => (
        <li key={i}>
          <button
            type="button"
            disabled={!onPick || !issue.step}
            onClick={() => onPick?.(issue)}
            className={clsx(
              "w-full rounded-md border px-2 py-1 text-left text-xs focus-visible:outline-2 focus-visible:outline-brand-500",
              issue.severity === "error"
                ? "border-red-200 bg-red-50 text-red-800"
                : "border-amber-200 bg-amber-50 text-amber-800",
            )}
          >
            <span className="font-semibold">
              {issue.severity === "error" ? "Error" : "Warning"}
            </span>
            {issue.step && <span className="font-mono"> · {issue.step}</span>}: {issue.message}
          </button>
        </li>
      ))}
    </ul>
  );
}

export function ProblemsPanel({ issues }: { issues: Issue[] }) {
  const flow = useReactFlow();
  const pick = (issue: Issue) => {
    if (!issue.step) return;
    select([issue.step]);
    const node = flow.getNode(issue.step);
    if (node)
      flow.setCenter(node.position.x + 116, node.position.y + 38, { zoom: 1, duration: 300 });
  };
  if (!issues.length) return <p className="text-sm text-emerald-700">No problems found.</p>;
  return <IssueList issues={issues} onPick={pick} />;
}

function StepIdField({ step, readOnly }: { step: StepDef; readOnly: boolean }) {
  const [draft, setDraft] = useState(step.id);
  const [problem, setProblem] = useState<string | null>(null);
  const apply = () => {
    if (draft === step.id) return setProblem(null);
    const why = renameProblem(getDoc(), step.id, draft);
    setProblem(why);
    if (why) return;
    commit(renameStep(getDoc(), step.id, draft));
    select([draft]);
  };
  return (
    <div>
      <label htmlFor="step-id" className="block text-xs font-medium text-slate-600">
        Step id
      </label>
      <input
        id="step-id"
        className={clsx(inputClass, "font-mono")}
        value={draft}
        disabled={readOnly}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={apply}
        onKeyDown={(e) => e.key === "Enter" && apply()}
        aria-invalid={problem ? true : undefined}
      />
      {problem && <p className="mt-1 text-xs text-red-700">{problem}</p>}
    </div>
  );
}

function DependsOnEditor({
  step,
  doc,
  readOnly,
}: {
  step: StepDef;
  doc: WorkflowDefinition;
  readOnly: boolean;
}) {
  const deps = useMemo(() => dependencies(doc.steps), [doc.steps]);
  const candidates = doc.steps.filter(
    (s) =>
      s.id !== step.id &&
      !(step.depends_on ?? []).includes(s.id) &&
      !wouldCreateCycle(deps, s.id, step.id),
  );
  return (
    <div>
      <div className="text-xs font-medium text-slate-600">Runs after (depends_on)</div>
      <ul className="mt-1 flex flex-wrap gap-1">
        {(step.depends_on ?? []).map((d) => (
          <li
            key={d}
            className="flex items-center gap-1 rounded-full bg-slate-100 px-2 py-0.5 font-mono text-xs"
          >
            {d}
            {!readOnly && (
              <button
                type="button"
                aria-label={`Remove dependency on ${d}`}
                className="text-slate-500 hover:text-red-600"
                onClick={() => commit(disconnect(getDoc(), [{ source: d, target: step.id }]))}
              >
                ×
              </button>
            )}
          </li>
        ))}
        {!(step.depends_on ?? []).length && <li className="text-xs text-slate-400">Nothing</li>}
      </ul>
      {!readOnly && candidates.length > 0 && (
        <select
          aria-label="Add dependency"
          className="mt-1 w-full rounded-md border border-slate-300 px-2 py-1 text-xs"
          value=""
          onChange={(e) => e.target.value && commit(connect(getDoc(), e.target.value, step.id))}
        >
          <option value="">Add a step it runs after…</option>
          {candidates.map((c) => (
            <option key={c.id} value={c.id}>
              {c.id}
            </option>
          ))}
        </select>
      )}
    </div>
  );
}

function StepPanel({
  step,
  index,
  doc,
  readOnly,
  catalog,
  definitionSchema,
  issues,
}: {
  step: StepDef;
  index: number;
  doc: WorkflowDefinition;
  readOnly: boolean;
  catalog?: Catalog;
  definitionSchema?: Schema;
  issues: Issue[];
}) {
  const schema = useMemo(
    () => stepFormSchema(step.type, step.function, definitionSchema, catalog),
    [step.type, step.function, definitionSchema, catalog],
  );
  const uiSchema = useMemo(() => stepUiSchema(step.type), [step.type]);
  const fields = Object.keys((schema.properties as Schema) ?? {});
  const formData = useMemo(() => {
    const out: Record<string, unknown> = {};
    for (const f of Object.keys((schema.properties as Schema) ?? {}))
      if (step[f] !== undefined) out[f] = step[f];
    return out;
  }, [step, schema]);
  // Only the steps and inputs matter for the references on offer (not names, layout...).
  const steps = doc.steps;
  const inputs = doc.input_schema;
  const context: FormContext = useMemo(
    () => ({
      references: referenceOptions({ name: "", steps, input_schema: inputs }, step, catalog),
      models: (catalog?.models ?? []).map((m) => m.name),
    }),
    [steps, inputs, step, catalog],
  );
  const stepIssues = useMemo(() => issues.filter((i) => i.step === step.id), [issues, step.id]);
  const extraErrors = useMemo(
    () => fieldErrors(stepIssues, [`steps[${index}]`]) as ErrorSchema,
    [stepIssues, index],
  );

  const onChange = (data: Record<string, unknown>) => {
    const current = getDoc().steps.find((s) => s.id === step.id);
    if (!current) return;
    const next: StepDef = { ...current };
    for (const f of fields) {
      const v = data[f];
      if (isEmpty(v)) delete next[f];
      else next[f] = v;
    }
    if (JSON.stringify(next) === JSON.stringify(current)) return;
    commit(replaceStep(getDoc(), step.id, next), `step:${step.id}`);
  };

  const setType = (type: string) => commit(replaceStep(getDoc(), step.id, { ...step, type }));

  return (
    <div className="space-y-3" data-testid="step-panel">
      <div className="flex items-center justify-between">
        <h2 className="text-sm font-semibold text-slate-900">Step</h2>
        {!readOnly && (
          <button
            type="button"
            className={dangerButton}
            onClick={() => {
              commit(removeSteps(getDoc(), [step.id]));
              select([]);
            }}
          >
            Delete step
          </button>
        )}
      </div>
      <StepIdField key={step.id} step={step} readOnly={readOnly} />
      <div>
        <label htmlFor="step-type" className="block text-xs font-medium text-slate-600">
          Type
        </label>
        <select
          id="step-type"
          className={inputClass}
          value={step.type}
          disabled={readOnly}
          onChange={(e) => setType(e.target.value)}
        >
          {STEP_TYPES.map((t) => (
            <option key={t} value={t}>
              {STEP_TYPE_LABEL[t]}
            </option>
          ))}
        </select>
      </div>
      <DependsOnEditor step={step} doc={doc} readOnly={readOnly} />
      {stepIssues.length > 0 && <IssueList issues={stepIssues} />}
      <div className="prsm-form">
        <Suspense fallback={<FormFallback />}>
          <SchemaForm
            key={`${step.id}:${step.type}:${step.function ?? ""}`}
            schema={schema}
            uiSchema={uiSchema}
            formData={formData}
            formContext={context}
            onChange={onChange}
            extraErrors={extraErrors}
            disabled={readOnly}
            idPrefix="step"
          />
        </Suspense>
      </div>
    </div>
  );
}

function InputsEditor({ doc, readOnly }: { doc: WorkflowDefinition; readOnly: boolean }) {
  const [name, setName] = useState("");
  const [type, setType] = useState("string");
  const [problem, setProblem] = useState<string | null>(null);
  const entries = Object.entries(doc.input_schema ?? {});
  const add = () => {
    const n = name.trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))
      return setProblem("Use letters, digits and _, starting with a letter.");
    if (doc.input_schema?.[n]) return setProblem(`There is already an input '${n}'.`);
    setProblem(null);
    commit(setInput(getDoc(), n, { type }));
    setName("");
  };
  const update = (key: string, spec: InputSpec) =>
    commit(setInput(getDoc(), key, spec), `input:${key}`);
  return (
    <fieldset className="space-y-2">
      <legend className="text-xs font-medium text-slate-600">Inputs</legend>
      {entries.length === 0 && <p className="text-xs text-slate-400">No inputs yet.</p>}
      <ul className="space-y-2">
        {entries.map(([key, spec]) => (
          <li
            key={key}
            className="rounded-md border border-slate-200 p-2"
            data-testid={`input-${key}`}
          >
            <div className="flex items-center gap-2">
              <span className="font-mono text-xs font-semibold">{key}</span>
              <select
                aria-label={`Type of input ${key}`}
                className="ml-auto rounded border border-slate-300 px-1 py-0.5 text-xs"
                value={spec.type}
                disabled={readOnly}
                onChange={(e) => update(key, { ...spec, type: e.target.value })}
              >
                {INPUT_TYPES.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
              <label className="flex items-center gap-1 text-xs text-slate-600">
                <input
                  type="checkbox"
                  checked={spec.required !== false}
                  disabled={readOnly}
                  onChange={(e) => update(key, { ...spec, required: e.target.checked })}
                />
                required
              </label>
              {!readOnly && (
                <button
                  type="button"
                  aria-label={`Remove input ${key}`}
                  className="text-slate-400 hover:text-red-600"
                  onClick={() => commit(setInput(getDoc(), key, null))}
                >
                  ×
                </button>
              )}
            </div>
            <input
              aria-label={`Description of input ${key}`}
              className={clsx(inputClass, "mt-1 text-xs")}
              placeholder="Description"
              value={spec.description ?? ""}
              disabled={readOnly}
              onChange={(e) => {
                const { description: _d, ...rest } = spec;
                update(key, e.target.value ? { ...rest, description: e.target.value } : rest);
              }}
            />
          </li>
        ))}
      </ul>
      {!readOnly && (
        <div className="flex gap-1">
          <input
            aria-label="New input name"
            placeholder="name, e.g. text"
            className={clsx(inputClass, "text-xs")}
            value={name}
            onChange={(e) => setName(e.target.value)}
            onKeyDown={(e) => e.key === "Enter" && add()}
          />
          <select
            aria-label="New input type"
            className="rounded-md border border-slate-300 px-1 text-xs"
            value={type}
            onChange={(e) => setType(e.target.value)}
          >
            {INPUT_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
          <button
            type="button"
            className={clsx(secondaryButton, "whitespace-nowrap")}
            onClick={add}
          >
            Add input
          </button>
        </div>
      )}
      {problem && <p className="text-xs text-red-700">{problem}</p>}
    </fieldset>
  );
}

function WorkflowPanel({
  doc,
  readOnly,
  definitionSchema,
  issues,
}: {
  doc: WorkflowDefinition;
  readOnly: boolean;
  definitionSchema?: Schema;
  issues: Issue[];
}) {
  const ehSchema = useMemo(() => errorHandlingSchema(definitionSchema), [definitionSchema]);
  const [ehOpen, setEhOpen] = useState(false);
  const workflowIssues = useMemo(() => issues.filter((i) => !i.step), [issues]);
  const ehErrors = useMemo(
    () => fieldErrors(workflowIssues, ["error_handling"]) as ErrorSchema,
    [workflowIssues],
  );
  return (
    <div className="space-y-3" data-testid="workflow-panel">
      <h2 className="text-sm font-semibold text-slate-900">Workflow</h2>
      {workflowIssues.length > 0 && <IssueList issues={workflowIssues} />}
      <div>
        <label htmlFor="wf-name" className="block text-xs font-medium text-slate-600">
          Name
        </label>
        <input
          id="wf-name"
          className={inputClass}
          value={doc.name ?? ""}
          disabled={readOnly}
          onChange={(e) => commit(setMeta(getDoc(), { name: e.target.value }), "meta:name")}
        />
      </div>
      <div>
        <label htmlFor="wf-description" className="block text-xs font-medium text-slate-600">
          Description
        </label>
        <textarea
          id="wf-description"
          rows={2}
          className={inputClass}
          value={doc.description ?? ""}
          disabled={readOnly}
          onChange={(e) =>
            commit(setMeta(getDoc(), { description: e.target.value }), "meta:description")
          }
        />
      </div>
      <div>
        <label htmlFor="wf-version" className="block text-xs font-medium text-slate-600">
          Version label
        </label>
        <input
          id="wf-version"
          className={inputClass}
          placeholder="1.0"
          value={doc.version ?? ""}
          disabled={readOnly}
          onChange={(e) =>
            commit(setMeta(getDoc(), { version: e.target.value || undefined }), "meta:version")
          }
        />
      </div>
      <InputsEditor doc={doc} readOnly={readOnly} />
      {ehSchema && (
        <details
          className="rounded-md border border-slate-200 p-2"
          open={ehOpen}
          onToggle={(e) => setEhOpen((e.target as HTMLDetailsElement).open)}
        >
          <summary className="cursor-pointer text-xs font-medium text-slate-600">
            Error handling
          </summary>
          {ehOpen && (
            <div className="prsm-form mt-2">
              <Suspense fallback={<FormFallback />}>
                <SchemaForm
                  schema={ehSchema}
                  formData={doc.error_handling ?? {}}
                  disabled={readOnly}
                  extraErrors={ehErrors}
                  idPrefix="eh"
                  onChange={(value) => {
                    const clean = Object.fromEntries(
                      Object.entries(value ?? {}).filter(([, v]) => !isEmpty(v)),
                    );
                    const current = getDoc().error_handling ?? {};
                    if (JSON.stringify(clean) === JSON.stringify(current)) return;
                    commit(
                      setMeta(getDoc(), {
                        error_handling: Object.keys(clean).length ? clean : undefined,
                      }),
                      "meta:error_handling",
                    );
                  }}
                />
              </Suspense>
            </div>
          )}
        </details>
      )}
    </div>
  );
}

export function SidePanel({
  readOnly,
  catalog,
  definitionSchema,
  issues,
}: {
  readOnly: boolean;
  catalog?: Catalog;
  definitionSchema?: Schema;
  issues: Issue[];
}) {
  const doc = useDocStore((s) => s.doc);
  const selected = useUiStore((s) => s.selected);
  const tab = useUiStore((s) => s.sideTab);
  const errors = issues.filter((i) => i.severity === "error").length;
  const warnings = issues.length - errors;
  const ids = [...selected].filter((id) => doc.steps.some((s) => s.id === id));
  const index = ids.length === 1 ? doc.steps.findIndex((s) => s.id === ids[0]) : -1;
  return (
    <aside
      className="flex h-full w-[300px] shrink-0 flex-col border-l border-slate-200 bg-white xl:w-[360px]"
      aria-label="Details"
    >
      <div role="tablist" className="flex border-b border-slate-200 text-sm">
        {(["properties", "problems"] as const).map((t) => (
          <button
            key={t}
            role="tab"
            type="button"
            aria-selected={tab === t}
            onClick={() => useUiStore.setState({ sideTab: t })}
            className={clsx(
              "flex-1 px-3 py-2 font-medium focus-visible:outline-2 focus-visible:outline-brand-500",
              tab === t
                ? "border-b-2 border-brand-600 text-brand-700"
                : "text-slate-500 hover:text-slate-700",
            )}
          >
            {t === "properties" ? "Properties" : "Problems"}
            {t === "problems" && (errors > 0 || warnings > 0) && (
              <span className="ml-1 inline-flex gap-1">
                {errors > 0 && (
                  <span className="rounded-full bg-red-600 px-1.5 text-[10px] text-white">
                    {errors}
                  </span>
                )}
                {warnings > 0 && (
                  <span className="rounded-full bg-amber-500 px-1.5 text-[10px] text-white">
                    {warnings}
                  </span>
                )}
              </span>
            )}
          </button>
        ))}
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto p-3">
        {tab === "problems" ? (
          <ProblemsPanel issues={issues} />
        ) : index >= 0 ? (
          <StepPanel
            key={doc.steps[index].id}
            step={doc.steps[index]}
            index={index}
            doc={doc}
            readOnly={readOnly}
            catalog={catalog}
            definitionSchema={definitionSchema}
            issues={issues}
          />
        ) : ids.length > 1 ? (
          <div className="space-y-2">
            <h2 className="text-sm font-semibold text-slate-900">{ids.length} steps selected</h2>
            <p className="font-mono text-xs text-slate-500">{ids.join(", ")}</p>
            {!readOnly && (
              <button
                type="button"
                className={dangerButton}
                onClick={() => {
                  commit(removeSteps(getDoc(), ids));
                  select([]);
                }}
              >
                Delete {ids.length} steps
              </button>
            )}
          </div>
        ) : (
          <WorkflowPanel
            doc={doc}
            readOnly={readOnly}
            definitionSchema={definitionSchema}
            issues={issues}
          />
        )}
      </div>
    </aside>
  );
}
