// /tokens: one hook per endpoint.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../lib/api";

export interface Token {
  id: number;
  name: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface CreatedToken extends Token {
  key: string;
}

const TOKENS = ["tokens"] as const;

export function useTokens() {
  return useQuery({
    queryKey: TOKENS,
    queryFn: ({ signal }) => api<Token[]>("/tokens", { signal }),
  });
}

export function useCreateToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; expires_in_days?: number }) =>
      api<CreatedToken>("/tokens", { method: "POST", body }),
    onSuccess: () => client.invalidateQueries({ queryKey: TOKENS }),
  });
}

export function useRevokeToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api<null>(`/tokens/${id}`, { method: "DELETE" }),
    onSuccess: () => client.invalidateQueries({ queryKey: TOKENS }),
  });
}
