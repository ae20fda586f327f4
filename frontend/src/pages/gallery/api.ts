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
    queryFn: async ({ signal }) => (await api<Page<Template>>("/templates?limit=500", { signal })).results,
  });
}

export function useInstantiate(templateId: string) {
  return useMutation({
    mutationFn: (body: { parameters: Record<string, unknown>; name?: string }) =>
      api<CreatedWorkflow>(`/templates/${templateId}/instantiate`, { method: "POST", body }),
  });
}
