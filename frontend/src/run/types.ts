// Shapes of what the run view reads: the execution websocket (docs/events.md),
// the execution detail API and the workflow definition document.

export type ExecutionStatus =
  "queued" | "running" | "completed" | "failed" | "cancelled" | "timed_out";

export type StepStatus =
  | "pending"
  | "ready"
  | "queued"
  | "running"
  /** A composite (loop, conditional) whose children run; it holds no parallel slot. */
  | "waiting"
  | "retrying"
  | "completed"
  | "failed"
  | "skipped"
  | "cancelled";

export const STEP_TERMINAL: ReadonlySet<string> = new Set([
  "completed",
  "failed",
  "skipped",
  "cancelled",
]);
export const EXECUTION_TERMINAL: ReadonlySet<string> = new Set([
  "completed",
  "failed",
  "cancelled",
  "timed_out",
]);

/**
 * Why an open step that is not running waits (docs/events.md): carried by the snapshot,
 * the execution detail and the `step.ready|queued|retrying|waiting` events; null for
 * running and finished steps.
 */
export type WaitingReason =
  | { reason: "dependencies"; message: string; steps: string[] }
  | { reason: "slot"; message: string; in_use: number; limit: number }
  | { reason: "queue"; message: string; queue: string; consumers: number | null }
  | {
      reason: "retry";
      message: string;
      at: string | null;
      attempt: number;
      max_attempts: number | null;
      last_error: string;
    }
  | { reason: "children"; message: string; steps: string[] }
  | { reason: "stalled"; message: string; steps: string[] };

/**
 * One attempt of a step (`executions/core/attempts.py`): a failed or lost one from its
 * attempts log, or the one running now or that succeeded. `wait_seconds` is the wait
 * before the next attempt (the retry backoff; 0 when queued at once, null for the last).
 */
export interface AttemptRecord {
  attempt: number;
  model: string | null;
  status: "running" | "succeeded" | "failed" | "lost" | "cancelled";
  error_type: string | null;
  error_message: string | null;
  started_at: string | null;
  finished_at: string | null;
  duration_seconds: number | null;
  wait_seconds: number | null;
  next_model: string | null;
}

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
  waiting?: WaitingReason | null;
  attempt_history?: AttemptRecord[];
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
  /** Why it waits, as the server last said (null while running or once finished). */
  waiting: WaitingReason | null;
  /** The attempts that ended without a result (failed, or their worker lost), oldest
   * first: from the snapshot, then each event's `failed_attempt`. */
  failedAttempts?: AttemptRecord[];
  /** Why its result is empty, when the `step.completed` event said so. */
  emptyReason?: string;
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
  waiting?: WaitingReason | null;
  /** Every attempt, oldest first. */
  attempt_history?: AttemptRecord[];
  /** The step completed with an empty list, string or object; the reason says why. */
  empty_result?: boolean;
  empty_reason?: string | null;
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
  /** While running, when it should end (ISO time); null when unknown. */
  estimated_completion?: string | null;
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
  /** Inputs that run the workflow as it is (a template's samples). */
  sample_inputs?: Record<string, unknown> | null;
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
