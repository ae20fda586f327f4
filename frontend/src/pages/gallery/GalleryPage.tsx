// /templates/: browse templates, fill in a template's parameters, create a workflow from it.
import Form from "@rjsf/core";
import validator from "@rjsf/validator-ajv8";
import clsx from "clsx";
import { useMemo, useState } from "react";
import {
  Button,
  Card,
  EmptyState,
  ErrorBanner,
  Loading,
  inputClass,
  labelClass,
} from "../common/ui";
import { useInstantiate, useRunWithSamples, useTemplates, type Template } from "./api";
import { parameterForm, parameterValues, validateObjects, type FormData } from "./schema";
import "./rjsf.css";

export function GalleryPage() {
  const templates = useTemplates();
  const [search, setSearch] = useState("");
  const [category, setCategory] = useState("");
  const [selectedId, setSelectedId] = useState<string | null>(null);

  const categories = useMemo(
    () => [...new Set((templates.data ?? []).map((t) => t.category))].sort(),
    [templates.data],
  );
  const needle = search.trim().toLowerCase();
  const shown = (templates.data ?? []).filter(
    (t) =>
      (!category || t.category === category) &&
      (!needle ||
        t.name.toLowerCase().includes(needle) ||
        t.description.toLowerCase().includes(needle)),
  );
  const selected = templates.data?.find((t) => t.id === selectedId) ?? null;

  if (templates.isPending) return <Loading label="Loading templates…" />;
  if (templates.isError)
    return (
      <ErrorBanner>
        Could not load the templates: {templates.error.message}. Reload the page to try again.
      </ErrorBanner>
    );

  return (
    <div className="grid gap-6 lg:grid-cols-[1fr_28rem]">
      <div>
        <div
          className="mb-4 flex flex-wrap items-end gap-3"
          role="search"
          aria-label="Filter templates"
        >
          <div className="min-w-56 flex-1">
            <label htmlFor="template-search" className={labelClass}>
              Search
            </label>
            <input
              id="template-search"
              type="search"
              className={`${inputClass} mt-1`}
              placeholder="Name or description"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
          </div>
          <div>
            <label htmlFor="template-category" className={labelClass}>
              Category
            </label>
            <select
              id="template-category"
              className={`${inputClass} mt-1`}
              value={category}
              onChange={(e) => setCategory(e.target.value)}
            >
              <option value="">All categories</option>
              {categories.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </div>
        </div>
        {templates.data.length === 0 ? (
          <Card>
            <EmptyState title="No templates yet">
              An administrator can load the built-in ones with{" "}
              <code>python manage.py load_builtin_templates</code>, or anyone can publish one with{" "}
              <code>POST /api/v1/templates</code>.
            </EmptyState>
          </Card>
        ) : shown.length === 0 ? (
          <Card>
            <EmptyState title="No templates match">Try another search or category.</EmptyState>
          </Card>
        ) : (
          <ul className="grid gap-3 sm:grid-cols-2" aria-label="Templates">
            {shown.map((t) => (
              <li key={t.id}>
                <TemplateCard
                  template={t}
                  selected={t.id === selectedId}
                  onSelect={() => setSelectedId(t.id)}
                />
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className="lg:sticky lg:top-4 lg:self-start">
        {selected ? (
          <TemplateDetail
            key={selected.id}
            template={selected}
            onClose={() => setSelectedId(null)}
          />
        ) : (
          <Card>
            <EmptyState title="Pick a template">
              Choose a card to see its steps and parameters, then create your own workflow from it.
            </EmptyState>
          </Card>
        )}
      </div>
    </div>
  );
}

function TemplateCard({
  template,
  selected,
  onSelect,
}: {
  template: Template;
  selected: boolean;
  onSelect: () => void;
}) {
  const count = template.parameters.length;
  return (
    <button
      type="button"
      onClick={onSelect}
      aria-pressed={selected}
      className={clsx(
        "flex h-full w-full flex-col rounded-lg border bg-white p-4 text-left shadow-sm transition",
        "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-500",
        selected
          ? "border-brand-500 ring-1 ring-brand-500"
          : "border-slate-200 hover:border-slate-300 hover:shadow",
      )}
    >
      <span className="flex items-start justify-between gap-2">
        <span className="font-semibold text-slate-900">{template.name}</span>
        <span className="shrink-0 rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-600">
          {template.category}
        </span>
      </span>
      <span className="mt-1 line-clamp-3 text-sm text-slate-600">
        {template.description || "No description."}
      </span>
      <span className="mt-3 flex flex-wrap gap-x-3 gap-y-1 text-xs text-slate-500">
        <span>
          {template.steps_template.length} step{template.steps_template.length === 1 ? "" : "s"}
        </span>
        <span>
          {count} parameter{count === 1 ? "" : "s"}
        </span>
        {template.is_builtin ? (
          <span>Built-in</span>
        ) : (
          template.owner && <span>by {template.owner}</span>
        )}
      </span>
    </button>
  );
}

function TemplateDetail({ template, onClose }: { template: Template; onClose: () => void }) {
  const { schema, uiSchema } = useMemo(
    () => parameterForm(template.parameters),
    [template.parameters],
  );
  const [data, setData] = useState<FormData | undefined>(undefined);
  const [name, setName] = useState(template.name);
  const instantiate = useInstantiate(template.id);
  const runSamples = useRunWithSamples(template);
  const samples = template.sample_inputs;

  function submit(values: FormData | undefined) {
    instantiate.mutate(
      { parameters: parameterValues(template.parameters, values), name: name.trim() || undefined },
      { onSuccess: (created) => window.location.assign(`/workflows/${created.id}/`) },
    );
  }

  return (
    <Card
      title={template.name}
      labelledBy="template-detail-title"
      actions={
        <Button variant="ghost" onClick={onClose} aria-label="Close the template details">
          Close
        </Button>
      }
    >
      {template.description && <p className="text-sm text-slate-600">{template.description}</p>}
      <h3 className="mt-4 text-xs font-semibold uppercase tracking-wide text-slate-500">Steps</h3>
      <ol className="mt-1 space-y-1 text-sm">
        {template.steps_template.map((step, index) => (
          <li key={step.id ?? index} className="flex items-center gap-2">
            <span className="flex h-5 w-5 items-center justify-center rounded-full bg-slate-100 text-xs text-slate-600">
              {index + 1}
            </span>
            <code className="text-xs">{step.id}</code>
            <span className="text-xs text-slate-500">{step.type}</span>
          </li>
        ))}
      </ol>
      {samples && Object.keys(samples).length > 0 && (
        <>
          <h3 className="mt-5 text-xs font-semibold uppercase tracking-wide text-slate-500">
            Sample inputs
          </h3>
          <dl className="mt-1 space-y-1 text-sm" data-testid="sample-inputs">
            {Object.entries(samples).map(([key, value]) => (
              <div key={key} className="flex gap-2">
                <dt className="shrink-0 font-mono text-xs text-slate-500">{key}</dt>
                <dd className="truncate text-xs text-slate-700" title={String(value)}>
                  {typeof value === "string" ? value : JSON.stringify(value)}
                </dd>
              </div>
            ))}
          </dl>
          {runSamples.isError && (
            <div className="mt-3">
              <ErrorBanner error={runSamples.error} />
            </div>
          )}
          <Button
            variant="secondary"
            className="mt-3 w-full"
            disabled={runSamples.isPending || runSamples.isSuccess}
            onClick={() =>
              runSamples.mutate(
                {
                  parameters: parameterValues(template.parameters, data),
                  name: name.trim() || undefined,
                },
                { onSuccess: (url) => window.location.assign(url) },
              )
            }
          >
            {runSamples.isPending || runSamples.isSuccess
              ? "Starting…"
              : "Create and run with sample inputs"}
          </Button>
        </>
      )}
      <h3 className="mt-5 text-xs font-semibold uppercase tracking-wide text-slate-500">
        Parameters
      </h3>
      {template.parameters.length === 0 && (
        <p className="mt-1 text-sm text-slate-600">This template has no parameters.</p>
      )}
      <div className="rjsf-params mt-2">
        <Form
          schema={schema}
          uiSchema={uiSchema}
          validator={validator}
          formData={data}
          onChange={(e) => setData(e.formData)}
          onSubmit={(e) => submit(e.formData)}
          customValidate={validateObjects(template.parameters)}
          showErrorList={false}
          noHtml5Validate
          idPrefix={`tpl-${template.id}`}
        >
          <div className="mt-4 border-t border-slate-100 pt-4">
            <label htmlFor="workflow-name" className={labelClass}>
              Name of the new workflow
            </label>
            <input
              id="workflow-name"
              className={`${inputClass} mt-1`}
              value={name}
              maxLength={200}
              onChange={(e) => setName(e.target.value)}
            />
          </div>
          {instantiate.isError && (
            <div className="mt-3">
              <ErrorBanner error={instantiate.error} />
            </div>
          )}
          <Button
            type="submit"
            variant="primary"
            className="mt-4 w-full"
            disabled={instantiate.isPending || instantiate.isSuccess}
          >
            {instantiate.isPending || instantiate.isSuccess ? "Creating…" : "Use this template"}
          </Button>
        </Form>
      </div>
    </Card>
  );
}
