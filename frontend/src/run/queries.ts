// Server state of the run view and the Run launcher: one TanStack Query hook per endpoint.

import { useMutation, useQuery } from "@tanstack/react-query";
import { api } from "../lib/api";
import type { ExecuteResponse, ExecutionDetail, VersionDetail, WorkflowDetail } from "./types";

const enc = encodeURIComponent;

export const runKeys = {
  workflow: (wid: string) => ["run", "workflow", wid] as const,
  version: (wid: string, number: number) => ["run", "workflow", wid, "version", number] as const,
  execution: (wid: string, eid: string) => ["run", "execution", wid, eid] as const,
};

export function useWorkflow(workflowId: string, enabled = true) {
  return useQuery({
    queryKey: runKeys.workflow(workflowId),
    queryFn: ({ signal }) => api<WorkflowDetail>(`/workflows/${enc(workflowId)}`, { signal }),
    enabled,
  });
}

export function useWorkflowVersion(workflowId: string, number: number | undefined) {
  return useQuery({
    queryKey: runKeys.version(workflowId, number ?? 0),
    queryFn: ({ signal }) =>
      api<VersionDetail>(`/workflows/${enc(workflowId)}/versions/${number}`, { signal }),
    enabled: number !== undefined,
    staleTime: Infinity, // versions are immutable
  });
}

export function useExecution(workflowId: string, executionId: string) {
  return useQuery({
    queryKey: runKeys.execution(workflowId, executionId),
    queryFn: ({ signal }) =>
      api<ExecutionDetail>(`/workflows/${enc(workflowId)}/executions/${enc(executionId)}`, {
        signal,
      }),
    staleTime: 0,
    retry: (count, error) =>
      count < 1 && !(error && "status" in error && (error as { status: number }).status === 404),
  });
}

export interface ExecuteBody {
  inputs: Record<string, unknown>;
  execution_config: {
    priority: "high" | "normal" | "low";
    max_parallel_steps: number;
    timeout?: number;
  };
}

export function useExecute(workflowId: string) {
  return useMutation({
    mutationFn: (body: ExecuteBody) =>
      api<ExecuteResponse>(`/workflows/${enc(workflowId)}/execute`, { method: "POST", body }),
  });
}

export function useCancel(workflowId: string, executionId: string) {
  return useMutation({
    mutationFn: () =>
      api<ExecutionDetail>(`/workflows/${enc(workflowId)}/executions/${enc(executionId)}/cancel`, {
        method: "POST",
      }),
  });
}

export function useResume(workflowId: string, executionId: string) {
  return useMutation({
    mutationFn: () =>
      api<ExecuteResponse>(`/workflows/${enc(workflowId)}/executions/${enc(executionId)}/resume`, {
        method: "POST",
      }),
  });
}

export function runUrl(workflowId: string, executionId: string): string {
  return `/workflows/${enc(workflowId)}/runs/${enc(executionId)}/`;
}
