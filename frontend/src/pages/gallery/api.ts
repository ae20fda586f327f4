// /templates: the gallery's list and "use this template".
import { useMutation, useQuery } from "@tanstack/react-query";
import { api } from "../../lib/api";
import type { TemplateParameter } from "./schema";

export interface Template {
  id: string;
  name: string;
  description: string;
  category: string;
  parameters: TemplateParameter[];
  steps_template: { id?: string; type?: string; name?: string }[];
  is_builtin: boolean;
  is_public: boolean;
  owner: string | null;
  /** Inputs that run the template as it is; null when it has none. */
  sample_inputs?: Record<string, unknown> | null;
}

interface Page<T> {
  count: number;
  results: T[];
}

export interface CreatedWorkflow {
  id: string;
  name: string;
  version: string;
}

export function useTemplates() {
  return useQuery({
    queryKey: ["templates"],
    queryFn: async ({ signal }) =>
      (await api<Page<Template>>("/templates?limit=500", { signal })).results,
  });
}

export function useInstantiate(templateId: string) {
  return useMutation({
    mutationFn: (body: { parameters: Record<string, unknown>; name?: string }) =>
      api<CreatedWorkflow>(`/templates/${templateId}/instantiate`, { method: "POST", body }),
  });
}

/** Create a workflow from the template with its defaults and run it with its sample
 * inputs: the run's page is where the caller goes next. */
export function useRunWithSamples(template: Template) {
  return useMutation({
    mutationFn: async (body: { parameters: Record<string, unknown>; name?: string }) => {
      const created = await api<CreatedWorkflow>(`/templates/${template.id}/instantiate`, {
        method: "POST",
        body,
      });
      const started = await api<{ execution_id: string }>(
        `/workflows/${encodeURIComponent(created.id)}/execute`,
        { method: "POST", body: { inputs: template.sample_inputs ?? {} } },
      );
      return `/workflows/${encodeURIComponent(created.id)}/runs/${encodeURIComponent(started.execution_id)}/`;
    },
  });
}
