// /teams: one hook per endpoint.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../lib/api";

export interface Member {
  username: string;
  first_name: string;
  last_name: string;
  is_manager: boolean;
}

export interface Team {
  id: number;
  name: string;
  share_as: string;
  can_manage: boolean;
  members: Member[];
}

const TEAMS = ["teams"] as const;

export function useTeams() {
  return useQuery({ queryKey: TEAMS, queryFn: ({ signal }) => api<Team[]>("/teams", { signal }) });
}

export function useCreateTeam() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api<Team>("/teams", { method: "POST", body: { name } }),
    onSuccess: () => client.invalidateQueries({ queryKey: TEAMS }),
  });
}

export function useAddMember(teamId: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { username: string; is_manager: boolean }) =>
      api<Team>(`/teams/${teamId}/members`, { method: "POST", body }),
    onSuccess: () => client.invalidateQueries({ queryKey: TEAMS }),
  });
}

export function useRemoveMember(teamId: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (username: string) =>
      api<Team | null>(`/teams/${teamId}/members/${encodeURIComponent(username)}`, {
        method: "DELETE",
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: TEAMS }),
  });
}
