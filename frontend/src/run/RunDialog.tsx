// The Run dialog: a form generated from the workflow's input_schema plus the
// execution config; submitting starts the run and opens its live view.

import Form from "@rjsf/core";
import type { ErrorSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import clsx from "clsx";
import { useMemo, useState, type FormEvent } from "react";
import { PlayIcon, PRIMARY, SECONDARY } from "./buttons";
import { Modal } from "./Modal";
import { formToInputs, inputForm, submitErrors, type SubmitErrors } from "./inputForm";
import { runUrl, useExecute, useWorkflow, type ExecuteBody } from "./queries";
import "./rjsf.css";

interface ConfigState {
  priority: "high" | "normal" | "low";
  maxParallel: string;
  timeout: string;
}

export default function RunDialog({
  workflowId,
  onClose,
}: {
  workflowId: string;
  onClose: () => void;
}) {
  const workflow = useWorkflow(workflowId);
  const execute = useExecute(workflowId);
  const definition = workflow.data?.definition;
  const form = useMemo(() => inputForm(definition?.input_schema), [definition]);
  const uiSchema = useMemo(() => {
    const first = Object.keys(form.schema.properties ?? {})[0];
    return first
      ? { ...form.uiSchema, [first]: { ...(form.uiSchema[first] ?? {}), "ui:autofocus": true } }
      : form.uiSchema;
  }, [form]);
  const [formData, setFormData] = useState<Record<string, unknown> | undefined>(undefined);
  const [config, setConfig] = useState<ConfigState>({
    priority: "normal",
    maxParallel: "10",
    timeout: "",
  });
  const [errors, setErrors] = useState<SubmitErrors | null>(null);
  const hasInputs = Object.keys(form.schema.properties ?? {}).length > 0;
  // The samples as the form holds them (a list or object input is JSON text there).
  const samples = useMemo(
    () =>
      Object.fromEntries(
        Object.entries(definition?.sample_inputs ?? {}).map(([k, v]) => [
          k,
          form.jsonFields.includes(k) ? JSON.stringify(v, null, 2) : v,
        ]),
      ),
    [definition, form],
  );
  const hasSamples = hasInputs && Object.keys(samples).length > 0;
  const usingSamples =
    hasSamples && !!formData && Object.entries(samples).every(([k, v]) => formData[k] === v);

  const configErrors: Record<string, string> = { ...(errors?.config ?? {}) };
  const maxParallel = Number(config.maxParallel);
  if (
    config.maxParallel &&
    (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 1000)
  ) {
    configErrors.max_parallel_steps ??= "A whole number from 1 to 1000.";
  }
  const timeout = Number(config.timeout);
  if (config.timeout && (!Number.isInteger(timeout) || timeout < 1 || timeout > 604800)) {
    configErrors.timeout ??= "Whole seconds, from 1 to 604800 (7 days).";
  }

  const start = async (data: Record<string, unknown> | undefined) => {
    setErrors(null);
    if (configErrors.max_parallel_steps || configErrors.timeout) return;
    try {
      const body: ExecuteBody = {
        inputs: formToInputs(data, form),
        execution_config: {
          priority: config.priority,
          max_parallel_steps: config.maxParallel ? maxParallel : 10,
          ...(config.timeout ? { timeout } : {}),
        },
      };
      const started = await execute.mutateAsync(body);
      window.location.assign(runUrl(workflowId, started.execution_id));
    } catch (error) {
      setErrors(submitErrors(error, form));
    }
  };

  const busy = execute.isPending || execute.isSuccess;
  const footer = (
    <>
      <fieldset className="run-config mt-2 rounded-md border border-slate-200 bg-slate-50 px-4 py-3">
        <legend className="px-1 text-xs font-semibold tracking-wide text-slate-500 uppercase">
          Execution
        </legend>
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-3">
          <div>
            <label htmlFor="run-priority" className="mb-1 block text-sm font-medium text-slate-700">
              Priority
            </label>
            <select
              id="run-priority"
              className="block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm"
              value={config.priority}
              onChange={(e) =>
                setConfig({ ...config, priority: e.target.value as ConfigState["priority"] })
              }
            >
              <option value="high">High</option>
              <option value="normal">Normal</option>
              <option value="low">Low</option>
            </select>
            {configErrors.priority && (
              <p className="mt-1 text-xs font-medium text-red-600">{configErrors.priority}</p>
            )}
          </div>
          <div>
            <label
              htmlFor="run-max-parallel"
              className="mb-1 block text-sm font-medium text-slate-700"
            >
              Max parallel steps
            </label>
            <input
              id="run-max-parallel"
              type="number"
              min={1}
              max={1000}
              inputMode="numeric"
              className={clsx(
                "block w-full rounded-md border bg-white px-2 py-1.5 text-sm",
                configErrors.max_parallel_steps ? "border-red-400" : "border-slate-300",
              )}
              value={config.maxParallel}
              aria-invalid={!!configErrors.max_parallel_steps}
              aria-describedby={
                configErrors.max_parallel_steps ? "run-max-parallel-error" : undefined
              }
              onChange={(e) => setConfig({ ...config, maxParallel: e.target.value })}
            />
            {configErrors.max_parallel_steps && (
              <p id="run-max-parallel-error" className="mt-1 text-xs font-medium text-red-600">
                {configErrors.max_parallel_steps}
              </p>
            )}
          </div>
          <div>
            <label htmlFor="run-timeout" className="mb-1 block text-sm font-medium text-slate-700">
              Timeout (seconds)
            </label>
            <input
              id="run-timeout"
              type="number"
              min={1}
              inputMode="numeric"
              placeholder="None"
              className={clsx(
                "block w-full rounded-md border bg-white px-2 py-1.5 text-sm",
                configErrors.timeout ? "border-red-400" : "border-slate-300",
              )}
              value={config.timeout}
              aria-invalid={!!configErrors.timeout}
              aria-describedby={configErrors.timeout ? "run-timeout-error" : undefined}
              onChange={(e) => setConfig({ ...config, timeout: e.target.value })}
            />
            {configErrors.timeout && (
              <p id="run-timeout-error" className="mt-1 text-xs font-medium text-red-600">
                {configErrors.timeout}
              </p>
            )}
          </div>
        </div>
      </fieldset>
      {errors?.message && (
        <div
          role="alert"
          className="mt-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700"
        >
          {errors.message}
        </div>
      )}
      <div className="mt-5 flex justify-end gap-2">
        <button type="button" className={SECONDARY} onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className={PRIMARY} disabled={busy}>
          <PlayIcon />
          {busy ? "Starting…" : "Start run"}
        </button>
      </div>
    </>
  );

  return (
    <Modal
      open
      onClose={onClose}
      title={workflow.data ? `Run ${workflow.data.name}` : "Run workflow"}
      description={
        workflow.data
          ? `Runs the saved version ${workflow.data.version} (v${workflow.data.version_number}).${hasInputs ? " Fill in the inputs it declares." : ""}`
          : undefined
      }
      width="max-w-xl"
    >
      {workflow.isPending ? (
        <p className="py-6 text-center text-sm text-slate-500">Loading the workflow…</p>
      ) : workflow.isError ? (
        <div
          role="alert"
          className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700"
        >
          Could not load the workflow: {workflow.error.message}
        </div>
      ) : hasInputs ? (
        <>
          {hasSamples && (
            <div className="mb-3 flex items-center justify-between gap-3 rounded-md border border-brand-100 bg-brand-50 px-3 py-2 text-sm text-slate-700">
              <span>
                {usingSamples
                  ? "Filled in with the sample inputs."
                  : "This workflow comes with sample inputs that run as they are."}
              </span>
              <button
                type="button"
                className={SECONDARY}
                onClick={() => {
                  setErrors(null);
                  setFormData({ ...(formData ?? {}), ...samples });
                }}
                disabled={busy || usingSamples}
              >
                Use sample inputs
              </button>
            </div>
          )}
          <Form
            className="prsm-form"
            schema={form.schema}
            uiSchema={uiSchema}
            validator={validator}
            formData={formData}
            onChange={(e) => setFormData(e.formData as Record<string, unknown>)}
            onSubmit={(e) => void start(e.formData as Record<string, unknown>)}
            extraErrors={errors?.inputs as ErrorSchema | undefined}
            showErrorList={false}
            noHtml5Validate
            disabled={busy}
          >
            {footer}
          </Form>
        </>
      ) : (
        <form
          className="prsm-form"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            void start({});
          }}
        >
          <p className="mb-3 text-sm text-slate-500">This workflow takes no inputs.</p>
          {footer}
        </form>
      )}
    </Modal>
  );
}
