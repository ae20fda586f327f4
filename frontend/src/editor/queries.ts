// Server state: one TanStack Query hook per endpoint the editor uses.
import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { api } from "../lib/api";
import type { Catalog, Issue, WorkflowDefinition } from "../dag/types";

export interface WorkflowDetail {
  id: string;
  name: string;
  description: string;
  version: string;
  version_number: number;
  owner: string;
  definition: WorkflowDefinition;
  your_permissions: string[];
}

export interface ValidateResponse {
  is_valid: boolean;
  errors: Issue[];
  warnings: Issue[];
  estimated_cost: number | null;
  estimated_duration: number | null;
}

export interface VersionSummary {
  number: number;
  version: string;
  author: string;
  change_note: string;
  created_at: string;
  step_count: number;
}

export interface VersionDetail extends VersionSummary {
  definition: WorkflowDefinition;
}

export function useWorkflow(workflowId: string | null) {
  return useQuery({
    queryKey: ["workflow", workflowId],
    queryFn: () => api<WorkflowDetail>(`/workflows/${workflowId}`),
    enabled: workflowId !== null,
    staleTime: Infinity,
  });
}

export function useCatalog() {
  return useQuery({
    queryKey: ["catalog"],
    queryFn: () => api<Catalog>("/catalog"),
    staleTime: 60_000,
  });
}

export function useDefinitionSchema() {
  return useQuery({
    queryKey: ["definition-schema"],
    queryFn: () => api<Record<string, unknown>>("/schema/workflow-definition"),
    staleTime: Infinity,
  });
}

/** POST /workflows/validate for the given (already debounced) document text. */
export function useValidation(body: string | null) {
  return useQuery({
    queryKey: ["workflow-validate", body],
    queryFn: ({ signal }) =>
      api<ValidateResponse>("/workflows/validate", {
        method: "POST",
        body: {
          workflow_definition: JSON.parse(body!),
          checks: [
            "syntax_validation",
            "dependency_check",
            "resource_requirements",
            "cost_estimation",
          ],
        },
        signal,
      }),
    enabled: body !== null,
    placeholderData: keepPreviousData,
    gcTime: 30_000,
    retry: false,
  });
}

export function useSaveWorkflow(workflowId: string | null) {
  return useMutation({
    mutationFn: (body: { doc: WorkflowDefinition; note: string }) =>
      workflowId
        ? api<WorkflowDetail>(`/workflows/${workflowId}`, {
            method: "PUT",
            body: { ...body.doc, change_note: body.note },
          })
        : api<{ id: string }>("/workflows", {
            method: "POST",
            body: { ...body.doc, change_note: body.note },
          }),
  });
}

export function useVersions(workflowId: string) {
  return useQuery({
    queryKey: ["workflow-versions", workflowId],
    queryFn: () => api<VersionSummary[]>(`/workflows/${workflowId}/versions`),
  });
}

export function useVersion(workflowId: string, number: number | null) {
  return useQuery({
    queryKey: ["workflow-version", workflowId, number],
    queryFn: () => api<VersionDetail>(`/workflows/${workflowId}/versions/${number}`),
    enabled: number !== null,
    staleTime: Infinity,
  });
}
