// Shapes of what the run view reads: the execution websocket (docs/events.md),
// the execution detail API and the workflow definition document.

export type ExecutionStatus = "queued" | "running" | "completed" | "failed" | "cancelled" | "timed_out";

export type StepStatus =
  | "pending"
  | "ready"
  | "queued"
  | "running"
  | "retrying"
  | "completed"
  | "failed"
  | "skipped"
  | "cancelled";

export const STEP_TERMINAL: ReadonlySet<string> = new Set(["completed", "failed", "skipped", "cancelled"]);
export const EXECUTION_TERMINAL: ReadonlySet<string> = new Set(["completed", "failed", "cancelled", "timed_out"]);

/** One step run as the snapshot lists it. */
export interface SnapshotStep {
  key: string;
  step_id: string;
  status: StepStatus;
  attempt: number;
  model_used: string;
  error_type: string;
  cost: number;
  started_at: string | null;
  completed_at: string | null;
}

export interface SnapshotMessage {
  kind: "snapshot";
  execution_id: string;
  workflow_id: string;
  status: ExecutionStatus;
  last_seq: number;
  created_at: string | null;
  started_at: string | null;
  completed_at: string | null;
  total_cost: number;
  steps: SnapshotStep[];
}

export interface EventMessage {
  kind: "event";
  seq: number;
  type: string;
  execution_id: string;
  workflow_id: string;
  step: string | null;
  payload: Record<string, unknown>;
  at: string | null;
}

export type ServerMessage = SnapshotMessage | EventMessage | { kind: "pong" };

/** Live state of one step run (a top-level step, a loop iteration or a branch). */
export interface StepLive {
  key: string;
  stepId: string;
  /** Loop iteration index, or null. */
  iteration: number | null;
  status: StepStatus;
  attempt: number;
  modelUsed: string;
  errorType: string;
  errorMessage: string;
  cost: number;
  startedAt: string | null;
  completedAt: string | null;
}

export interface ExecutionError {
  type?: string;
  message?: string;
  step?: string;
}

// --- REST shapes -----------------------------------------------------------------

export interface ExecutionStepDetail {
  id: string;
  status: StepStatus;
  started_at: string | null;
  completed_at: string | null;
  result: unknown;
  cost: number;
  attempts: number;
  model_used: string | null;
  error: { type: string; message: string } | null;
  duration_seconds: number | null;
  worker_host: string;
  iterations?: Record<string, number>;
  branch?: string;
  /** The resolved (redacted) input, if the API provides it. */
  input?: unknown;
}

export interface ExecutionDetail {
  execution_id: string;
  workflow_id: string;
  status: ExecutionStatus;
  is_test: boolean;
  created_by: string;
  started_at: string | null;
  completed_at: string | null;
  duration_seconds: number | null;
  total_cost: number;
  version: number;
  inputs: Record<string, unknown>;
  config: Record<string, unknown>;
  /** The document that ran (the version's, or a generator's steps). */
  definition?: Definition;
  steps: ExecutionStepDetail[];
  final_result: unknown;
  resource_usage: { cpu_hours: number; ram_gb_hours: number; gpu_hours: number };
  error: ExecutionError | null;
  resumed_from: string | null;
  progress: number;
  current_step: string | null;
}

export interface ExecuteResponse {
  execution_id: string;
  workflow_id: string;
  status: string;
}

// --- the definition document (only what the run view reads) -----------------------

export interface InputSpec {
  type: "string" | "integer" | "number" | "boolean" | "array" | "object" | "secret" | "file";
  description?: string | null;
  default?: unknown;
  enum?: unknown[] | null;
  items?: Record<string, unknown> | null;
  required?: boolean;
  secret?: boolean;
}

export interface DefinitionStep {
  id: string;
  type: string;
  name?: string | null;
  description?: string | null;
  depends_on?: string[];
  model?: string | null;
  function?: string | null;
  input?: unknown;
  inputs?: Record<string, unknown> | null;
  parameters?: Record<string, unknown>;
  condition?: string | null;
  if_true?: Record<string, unknown> | null;
  if_false?: Record<string, unknown> | null;
  iterate_over?: unknown;
  step?: Record<string, unknown> | null;
  parallel?: boolean;
}

export interface Definition {
  name: string;
  description?: string;
  steps: DefinitionStep[];
  input_schema?: Record<string, InputSpec>;
  ui?: { nodes?: Record<string, { x: number; y: number }>; viewport?: unknown } | null;
  [key: string]: unknown;
}

export interface WorkflowDetail {
  id: string;
  name: string;
  version: string;
  version_number: number;
  definition: Definition;
  your_permissions: string[];
}

export interface VersionDetail {
  number: number;
  version: string;
  definition: Definition;
}
