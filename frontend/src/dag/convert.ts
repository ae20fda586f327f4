// The ONE place where the domain document and React Flow's nodes/edges meet.
// definition → flow for drawing; flow → definition for the round trip.
import type { Edge, Node } from "@xyflow/react";
import { referencedSteps } from "./references";
import type { DiffStatus, StepDef, WorkflowDefinition, XY } from "./types";

export interface StepIssues {
  errors: string[];
  warnings: string[];
}

export interface StepNodeData extends Record<string, unknown> {
  step: StepDef;
  issues?: StepIssues;
  diff?: DiffStatus;
  /** A run's step status (queued, running, retrying, completed, failed, skipped, cancelled). */
  status?: string;
}

export type StepFlowNode = Node<StepNodeData, "step">;
export type DagEdge = Edge<{ kind: "depends_on" | "reference" }>;

export const NODE_WIDTH = 232;
export const NODE_HEIGHT = 80;

/** Cards have a fixed size, so React Flow need not re-render them after measuring. */
const DEFAULT_SIZE = Object.freeze({ width: NODE_WIDTH, height: NODE_HEIGHT });

export const depEdgeId = (source: string, target: string) => `dep:${source}->${target}`;
export const refEdgeId = (source: string, target: string) => `ref:${source}->${target}`;

export interface NodeOptions {
  /** Positions to use where the document's `ui.nodes` has none. */
  fallback?: Record<string, XY>;
  /** Transient positions (a drag in progress) that win over everything. */
  override?: Record<string, XY> | null;
  selected?: ReadonlySet<string>;
  issues?: ReadonlyMap<string, StepIssues>;
  diff?: ReadonlyMap<string, DiffStatus>;
  status?: ReadonlyMap<string, string>;
  /** Sizes React Flow measured (controlled nodes must carry them back). */
  measured?: ReadonlyMap<string, { width: number; height: number }>;
}

/**
 * Turns steps into React Flow nodes, reusing the previous node object when
 * nothing about it changed: React Flow and the memoised StepNode then skip it,
 * so a selection change or an edit re-renders only the nodes it touches.
 */
export class NodeCache {
  private previous = new Map<string, StepFlowNode>();

  nodes(doc: WorkflowDefinition, options: NodeOptions = {}): StepFlowNode[] {
    const stored = doc.ui?.nodes ?? {};
    const next = new Map<string, StepFlowNode>();
    const out: StepFlowNode[] = [];
    doc.steps.forEach((step, index) => {
      const pos = options.override?.[step.id] ??
        stored[step.id] ??
        options.fallback?.[step.id] ?? { x: (index % 10) * 280, y: Math.floor(index / 10) * 120 };
      const selected = options.selected?.has(step.id) ?? false;
      const issues = options.issues?.get(step.id);
      const diff = options.diff?.get(step.id);
      const status = options.status?.get(step.id);
      const measured = options.measured?.get(step.id) ?? DEFAULT_SIZE;
      const old = this.previous.get(step.id);
      let node: StepFlowNode;
      if (
        old &&
        old.data.step === step &&
        old.position.x === pos.x &&
        old.position.y === pos.y &&
        old.selected === selected &&
        old.data.issues === issues &&
        old.data.diff === diff &&
        old.data.status === status &&
        old.measured === measured
      ) {
        node = old;
      } else {
        node = {
          id: step.id,
          type: "step",
          position: { x: pos.x, y: pos.y },
          data: { step, issues, diff, status },
          selected,
          measured,
        };
      }
      next.set(step.id, node);
      out.push(node);
    });
    this.previous = next;
    return out;
  }
}

/** Nodes for a document (no caching); positions from `ui.nodes`, else the fallback. */
export function definitionToNodes(doc: WorkflowDefinition, options: NodeOptions = {}): StepFlowNode[] {
  return new NodeCache().nodes(doc, options);
}

/**
 * Edges: one solid `depends_on` edge per declared dependency, and a dashed,
 * undeletable `reference` edge where a step reads another's result without
 * declaring it in depends_on.
 */
export function definitionToEdges(steps: StepDef[]): DagEdge[] {
  const ids = new Set(steps.map((s) => s.id));
  const edges: DagEdge[] = [];
  for (const step of steps) {
    const declared = new Set(step.depends_on ?? []);
    for (const source of step.depends_on ?? []) {
      if (!ids.has(source)) continue;
      edges.push({
        id: depEdgeId(source, step.id),
        source,
        target: step.id,
        data: { kind: "depends_on" },
      });
    }
    for (const source of referencedSteps(step)) {
      if (!ids.has(source) || declared.has(source)) continue;
      edges.push({
        id: refEdgeId(source, step.id),
        source,
        target: step.id,
        data: { kind: "reference" },
        deletable: false,
        selectable: false,
        className: "prsm-ref-edge",
        style: { strokeDasharray: "6 4", stroke: "#94a3b8" },
      });
    }
  }
  return edges;
}

export function definitionToFlow(
  doc: WorkflowDefinition,
  options: NodeOptions = {},
): { nodes: StepFlowNode[]; edges: DagEdge[] } {
  return { nodes: definitionToNodes(doc, options), edges: definitionToEdges(doc.steps) };
}

/**
 * Back from the canvas: steps in node order, `depends_on` from the
 * `depends_on` edges (reference edges are derived, not stored), positions into
 * `ui.nodes`. Everything else of `base` (name, inputs, viewport…) is kept.
 */
export function flowToDefinition(
  base: WorkflowDefinition,
  nodes: StepFlowNode[],
  edges: DagEdge[],
): WorkflowDefinition {
  const incoming = new Map<string, string[]>();
  for (const edge of edges) {
    if (edge.data?.kind === "reference" || edge.id.startsWith("ref:")) continue;
    incoming.set(edge.target, [...(incoming.get(edge.target) ?? []), edge.source]);
  }
  const positions: Record<string, XY> = {};
  const steps = nodes.map((node) => {
    const { depends_on: declared, ...rest } = node.data.step;
    positions[node.id] = { x: node.position.x, y: node.position.y };
    const deps = incoming.get(node.id) ?? [];
    const step: StepDef = { ...rest, id: node.id };
    if (deps.length || declared !== undefined) step.depends_on = deps;
    return step;
  });
  return { ...base, steps, ui: { ...(base.ui ?? {}), nodes: positions } };
}
