// The shapes of the observability API (executions/analytics.py, executions/optimization.py,
// workflows/audit.py). Fields that may be missing are optional so the pages degrade.

export type Timeframe = "last_24_hours" | "last_7_days" | "last_30_days";

export const TIMEFRAMES: { value: Timeframe; label: string; days: number }[] = [
  { value: "last_24_hours", label: "24 hours", days: 1 },
  { value: "last_7_days", label: "7 days", days: 7 },
  { value: "last_30_days", label: "30 days", days: 30 },
];

export interface DailyBucket {
  date: string;
  runs: number;
  success_rate: number | null;
  avg_duration_seconds: number | null;
  total_cost: number | null;
}

export interface StepStat {
  step_id: string;
  runs: number;
  skipped?: number;
  avg_duration_seconds: number | null;
  failure_rate: number | null;
  retry_rate: number | null;
  avg_cost: number | null;
  total_cost?: number | null;
}

export interface Analytics {
  workflow_id: string;
  timeframe: string | null;
  start: string;
  end: string;
  total_executions: number;
  executions_by_status: Record<string, number>;
  success_rate: number | null;
  avg_duration_seconds: number | null;
  p50_duration_seconds: number | null;
  p95_duration_seconds: number | null;
  avg_cost: number | null;
  total_cost: number | null;
  steps: StepStat[];
  daily?: DailyBucket[];
}

export type GroupBy = "workflow_id" | "user" | "team" | "model";

export const GROUPS: { value: GroupBy; label: string }[] = [
  { value: "workflow_id", label: "Workflow" },
  { value: "user", label: "User" },
  { value: "team", label: "Team" },
  { value: "model", label: "Model" },
];

export interface UsageGroup {
  key: string;
  name?: string;
  cpu_hours: number;
  ram_gb_hours: number;
  gpu_hours: number;
  total_cost: number;
  executions: number;
}

export interface Usage {
  timeframe: string | null;
  start: string;
  end: string;
  group_by: GroupBy;
  groups: UsageGroup[];
}

export interface Suggestion {
  kind: string;
  steps?: string[];
  reason: string;
  estimated_effect?: Record<string, unknown>;
  applied?: boolean;
  model?: string;
  replaces?: string;
  execution_config?: Record<string, unknown>;
}

export interface OptimizeResult {
  workflow_id: string;
  version: number;
  optimization_goals: string[];
  constraints: Record<string, number>;
  history_runs: number;
  suggestions: Suggestion[];
  optimized_definition: Record<string, unknown>;
  recommended_execution_config?: Record<string, unknown>;
  projected?: {
    before?: { cost?: number; duration_seconds?: number; critical_path?: string[] };
    after?: { cost?: number; duration_seconds?: number };
    constraints_met?: Record<string, boolean | null>;
  };
  warnings?: string[];
  optimized_definition_valid?: boolean;
  optimized_definition_errors?: { message?: string; step_id?: string; field?: string }[];
}

export interface WorkflowDetail {
  id: string;
  name: string;
  version: string;
  version_number: number;
  definition: Record<string, unknown>;
}

export const AUDIT_ACTIONS = [
  "created",
  "updated",
  "shared",
  "deleted",
  "budget_changed",
  "executed",
  "cancelled",
  "results_read",
] as const;

export interface AuditEntry {
  id: number;
  time: string;
  actor: string | null;
  action: string;
  object_type: string;
  object_id: string;
  workflow_id: string;
  client_address: string | null;
  summary: Record<string, unknown>;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}
