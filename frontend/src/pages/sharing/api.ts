// /workflows/{id}/permissions: who may read, execute, modify and delete a workflow.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../lib/api";

export const ACTIONS = ["read", "execute", "modify", "delete"] as const;
export type Action = (typeof ACTIONS)[number];
export type Grants = Record<Action, string[]>;

const key = (workflowId: string) => ["workflow-permissions", workflowId] as const;

export function usePermissions(workflowId: string) {
  return useQuery({
    queryKey: key(workflowId),
    queryFn: ({ signal }) => api<Grants>(`/workflows/${workflowId}/permissions`, { signal }),
  });
}

export function useSetPermissions(workflowId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (grants: Grants) =>
      api<Grants>(`/workflows/${workflowId}/permissions`, { method: "POST", body: grants }),
    onSuccess: (data) => client.setQueryData(key(workflowId), data),
  });
}
