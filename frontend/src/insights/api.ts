// One TanStack Query hook per observability endpoint.
import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../lib/api";
import type {
  Analytics,
  AuditEntry,
  GroupBy,
  OptimizeResult,
  Page,
  Timeframe,
  Usage,
  WorkflowDetail,
} from "./types";

export function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== null && v !== undefined && v !== "") search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : "";
}

export function useAnalytics(workflowId: string, timeframe: Timeframe) {
  return useQuery({
    queryKey: ["analytics", workflowId, timeframe],
    queryFn: ({ signal }) =>
      api<Analytics>(
        `/workflows/${encodeURIComponent(workflowId)}/analytics${query({ timeframe })}`,
        { signal },
      ),
    placeholderData: (previous) => previous,
  });
}

export function useUsage(groupBy: GroupBy, timeframe: Timeframe) {
  return useQuery({
    queryKey: ["resource-usage", groupBy, timeframe],
    queryFn: ({ signal }) =>
      api<Usage>(`/workflows/resource-usage${query({ group_by: groupBy, timeframe })}`, { signal }),
    placeholderData: (previous) => previous,
  });
}

/** The last ``days`` UTC calendar days, oldest first, as YYYY-MM-DD. */
export function lastDays(days: number, now: Date = new Date()): string[] {
  const out: string[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - i));
    out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

/** The UTC instant a YYYY-MM-DD day starts, and the next day's start. Explicit
 * instants, because the API reads a date-only ``end`` as that day's midnight. */
export function utcDayBounds(day: string): { start: string; end: string } {
  const start = new Date(`${day}T00:00:00Z`);
  const end = new Date(start.getTime() + 86_400_000);
  return { start: start.toISOString(), end: end.toISOString() };
}

/** A local calendar day (from a date input) as the instant it starts, or the day
 * after when ``after`` (an inclusive "to" date); text that is no date goes through
 * as typed, so the API's own message explains it. */
export function localDayInstant(day: string, after = false): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return day;
  const [y, m, d] = day.split("-").map(Number);
  const start = new Date(y, m - 1, d);
  // 2024-13-45 would roll over into another date: let the API refuse it instead
  if (start.getFullYear() !== y || start.getMonth() !== m - 1 || start.getDate() !== d) return day;
  const date = after ? new Date(y, m - 1, d + 1) : start;
  return date.toISOString();
}

/** Usage per UTC day: the API has no time series, so one request per day. */
export function useUsageByDay(groupBy: GroupBy, days: string[], enabled: boolean) {
  return useQueries({
    queries: days.map((day) => ({
      queryKey: ["resource-usage-day", groupBy, day],
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        api<Usage>(
          `/workflows/resource-usage${query({ group_by: groupBy, ...utcDayBounds(day) })}`,
          { signal },
        ),
      enabled,
      staleTime: 60_000,
    })),
  });
}

export function useWorkflow(workflowId: string, enabled = true) {
  return useQuery({
    queryKey: ["workflow", workflowId],
    queryFn: ({ signal }) =>
      api<WorkflowDetail>(`/workflows/${encodeURIComponent(workflowId)}`, { signal }),
    enabled,
  });
}

export interface OptimizeRequest {
  optimization_goals: string[];
  constraints: Record<string, number>;
}

export function useOptimize(workflowId: string) {
  return useMutation({
    mutationFn: (body: OptimizeRequest) =>
      api<OptimizeResult>(`/workflows/${encodeURIComponent(workflowId)}/optimize`, {
        method: "POST",
        body,
      }),
  });
}

export function useSaveVersion(workflowId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({
      definition,
      changeNote,
    }: {
      definition: Record<string, unknown>;
      changeNote: string;
    }) =>
      api<WorkflowDetail>(`/workflows/${encodeURIComponent(workflowId)}`, {
        method: "PUT",
        body: { ...definition, change_note: changeNote },
      }),
    onSuccess: (data) => client.setQueryData(["workflow", workflowId], data),
  });
}

export interface AuditFilters {
  object: string;
  actor: string;
  action: string;
  since: string;
  until: string;
}

export const AUDIT_PAGE_SIZE = 25;

export function useAudit(filters: AuditFilters, offset: number) {
  return useQuery({
    queryKey: ["audit", filters, offset],
    queryFn: ({ signal }) =>
      api<Page<AuditEntry>>(
        `/audit${query({
          ...filters,
          since: filters.since && localDayInstant(filters.since),
          until: filters.until && localDayInstant(filters.until, true),
          limit: AUDIT_PAGE_SIZE,
          offset,
        })}`,
        { signal },
      ),
    placeholderData: (previous) => previous,
  });
}
