// The definition document as the editor keeps it: the seed's shape plus a `ui`
// layout block (workflows/definition/schema.py). Never React Flow's JSON.

export type StepType =
  | "inference"
  | "data_processing"
  | "aggregation"
  | "conditional"
  | "loop"
  | "parallel_processing"
  | "data_collection";

export const STEP_TYPES: StepType[] = [
  "inference",
  "data_processing",
  "aggregation",
  "conditional",
  "loop",
  "parallel_processing",
  "data_collection",
];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface StepDef {
  id: string;
  type: string;
  name?: string;
  description?: string;
  depends_on?: string[];
  model?: string;
  function?: string;
  input?: Json;
  inputs?: Record<string, Json>;
  parameters?: Record<string, Json>;
  [field: string]: unknown;
}

export interface XY {
  x: number;
  y: number;
}

export interface UiLayout {
  nodes?: Record<string, XY>;
  viewport?: { x: number; y: number; zoom: number } | null;
}

export interface InputSpec {
  type: string;
  description?: string;
  default?: Json;
  required?: boolean;
  [field: string]: unknown;
}

export interface WorkflowDefinition {
  name: string;
  description?: string;
  version?: string;
  steps: StepDef[];
  input_schema?: Record<string, InputSpec>;
  error_handling?: Record<string, unknown> | null;
  ui?: UiLayout | null;
  [field: string]: unknown;
}

/** One problem the server's validator found (POST /workflows/validate). */
export interface Issue {
  severity: "error" | "warning";
  code: string;
  message: string;
  step: string | null;
  field: string;
}

export interface CatalogStepType {
  type: string;
  description: string;
  requires: string[];
  json_schema: Record<string, unknown>;
}

export interface CatalogModel {
  name: string;
  provider: string;
  /** What the model does (GET /catalog/models). */
  description?: string;
  available: boolean;
  input_price_per_1k: number;
  output_price_per_1k: number;
  team: string | null;
}

export interface CatalogFunction {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  input: Record<string, unknown>;
  output: Record<string, unknown>;
}

export interface Catalog {
  step_types: CatalogStepType[];
  models: CatalogModel[];
  functions: CatalogFunction[];
  error_types: { type: string; description: string }[];
}

/** How a step differs between two versions (the versions island). */
export type DiffStatus = "added" | "removed" | "changed" | "unchanged";

export const STEP_TYPE_LABEL: Record<string, string> = {
  inference: "Inference",
  data_processing: "Data processing",
  aggregation: "Aggregation",
  conditional: "Conditional",
  loop: "Loop",
  parallel_processing: "Parallel processing",
  data_collection: "Data collection",
};

export const STEP_TYPE_ICON: Record<string, string> = {
  inference: "✦",
  data_processing: "⚙",
  aggregation: "⊕",
  conditional: "◇",
  loop: "↻",
  parallel_processing: "⫴",
  data_collection: "⇣",
};
