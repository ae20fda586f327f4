// The ONE place where the domain document and React Flow's nodes/edges meet.
// definition → flow for drawing; flow → definition for the round trip.
import type { Edge, Node } from "@xyflow/react";
import { referencedSteps } from "./references";
import type { DiffStatus, StepDef, WorkflowDefinition, XY } from "./types";

export interface StepIssues {
  errors: string[];
  warnings: string[];
}

/** Where a nested step lives in its parent: a conditional's branch or a loop's body. */
export type InnerSlot = "if_true" | "if_false" | "step";

export interface StepNodeData extends Record<string, unknown> {
  step: StepDef;
  /** For a branch or loop body drawn inside its parent: the parent and the field. */
  inner?: { parent: string; slot: InnerSlot };
  issues?: StepIssues;
  diff?: DiffStatus;
  /** A run's step status (queued, running, waiting, retrying, completed, failed, …). */
  status?: string;
}

/**
 * "step": a card; "conditional" and "loop": a group drawn around its branches or
 * its body, which are "inner" cards (children with `parentId`) the group places.
 */
export type StepFlowNode = Node<StepNodeData, "step" | "conditional" | "loop" | "inner">;
export type DagEdge = Edge<{
  kind: "depends_on" | "reference" | "branch";
  /** A branch edge's field: `if_true` or `if_false`. */
  branch?: "if_true" | "if_false";
}>;

export const NODE_WIDTH = 232;
export const NODE_HEIGHT = 80;

/** Cards have a fixed size, so React Flow need not re-render them after measuring. */
const DEFAULT_SIZE = Object.freeze({ width: NODE_WIDTH, height: NODE_HEIGHT });

/** A group's inner cards: left inset (room for the true/false handles), header, rows. */
export const GROUP_INSET_X = 84;
export const GROUP_HEADER = 56;
export const GROUP_ROW = NODE_HEIGHT + 20;
export const GROUP_WIDTH = GROUP_INSET_X + NODE_WIDTH + 16;
const CONDITIONAL_SIZE = Object.freeze({
  width: GROUP_WIDTH,
  height: GROUP_HEADER + 2 * GROUP_ROW,
});
const LOOP_SIZE = Object.freeze({ width: GROUP_WIDTH, height: GROUP_HEADER + GROUP_ROW });

export const BRANCHES = ["if_true", "if_false"] as const;

/** The size a top-level step takes on the canvas (a group is bigger than a card). */
export function nodeSize(step: StepDef): { width: number; height: number } {
  if (step.type === "conditional") return CONDITIONAL_SIZE;
  if (step.type === "loop") return LOOP_SIZE;
  return DEFAULT_SIZE;
}

/** Id of the card of a nested step: `cond.if_true`, `loop.step` (a run's keys for branches). */
export const innerId = (parent: string, slot: InnerSlot) => `${parent}.${slot}`;
export const branchEdgeId = (parent: string, branch: string) => `branch:${parent}:${branch}`;

/** The inner card's place inside its group. */
export function innerPosition(slot: InnerSlot): XY {
  const row = slot === "if_false" ? 1 : 0;
  return { x: GROUP_INSET_X, y: GROUP_HEADER + row * GROUP_ROW + 8 };
}

function isSpec(value: unknown): value is Record<string, unknown> & { type: string } {
  return !!value && typeof value === "object" && !Array.isArray(value);
}

/** The nested steps a composite step holds: slot and spec, in drawing order. */
export function innerSteps(step: StepDef): { slot: InnerSlot; spec: StepDef }[] {
  const out: { slot: InnerSlot; spec: StepDef }[] = [];
  const slots: InnerSlot[] =
    step.type === "conditional" ? [...BRANCHES] : step.type === "loop" ? ["step"] : [];
  for (const slot of slots) {
    const spec = step[slot];
    if (isSpec(spec)) out.push({ slot, spec: { ...spec, id: innerId(step.id, slot) } as StepDef });
  }
  return out;
}

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
    const keep = (node: StepFlowNode) => {
      const old = this.previous.get(node.id);
      const same =
        old &&
        old.type === node.type &&
        old.data.step === node.data.step &&
        old.position.x === node.position.x &&
        old.position.y === node.position.y &&
        old.selected === node.selected &&
        old.data.issues === node.data.issues &&
        old.data.diff === node.data.diff &&
        old.data.status === node.data.status &&
        old.measured === node.measured;
      const chosen = same ? old : node;
      next.set(node.id, chosen);
      out.push(chosen);
    };
    doc.steps.forEach((step, index) => {
      const pos = options.override?.[step.id] ??
        stored[step.id] ??
        options.fallback?.[step.id] ?? { x: (index % 10) * 280, y: Math.floor(index / 10) * 120 };
      const type = step.type === "conditional" || step.type === "loop" ? step.type : "step";
      const issues = options.issues?.get(step.id);
      const diff = options.diff?.get(step.id);
      const status = options.status?.get(step.id);
      const measured =
        type === "step" ? (options.measured?.get(step.id) ?? DEFAULT_SIZE) : nodeSize(step);
      const node: StepFlowNode = {
        id: step.id,
        type,
        position: { x: pos.x, y: pos.y },
        data: { step, issues, diff, status },
        selected: options.selected?.has(step.id) ?? false,
        measured,
      };
      if (type !== "step") {
        node.width = measured.width;
        node.height = measured.height;
      }
      keep(node);
      // Children come right after their group, as React Flow wants.
      for (const { slot, spec } of innerSteps(step)) {
        const id = innerId(step.id, slot);
        const previous = this.previous.get(id);
        keep({
          id,
          type: "inner",
          parentId: step.id,
          extent: "parent",
          position: innerPosition(slot),
          data: {
            // The same spec object while the parent's field is unchanged: no re-render.
            step: previous && sameSpec(previous.data.step, spec) ? previous.data.step : spec,
            inner: { parent: step.id, slot },
            status: options.status?.get(id),
          },
          draggable: false,
          selectable: false,
          deletable: false,
          connectable: false,
          selected: false,
          measured: DEFAULT_SIZE,
        });
      }
    });
    this.previous = next;
    return out;
  }
}

function sameSpec(a: StepDef, b: StepDef): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Nodes for a document (no caching); positions from `ui.nodes`, else the fallback. */
export function definitionToNodes(
  doc: WorkflowDefinition,
  options: NodeOptions = {},
): StepFlowNode[] {
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
    if (step.type === "conditional")
      for (const { slot } of innerSteps(step)) {
        const branch = slot as "if_true" | "if_false";
        const yes = branch === "if_true";
        edges.push({
          id: branchEdgeId(step.id, branch),
          source: step.id,
          sourceHandle: branch,
          target: innerId(step.id, branch),
          data: { kind: "branch", branch },
          ariaLabel: `${step.id} ${yes ? "true" : "false"} branch`,
          deletable: false,
          selectable: false,
          className: yes
            ? "prsm-branch-edge prsm-branch-true"
            : "prsm-branch-edge prsm-branch-false",
          style: { stroke: yes ? "#10b981" : "#ef4444", strokeWidth: 2 },
          zIndex: 1,
        });
      }
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
    if (edge.data?.kind === "branch") continue; // drawn from the parent's field
    incoming.set(edge.target, [...(incoming.get(edge.target) ?? []), edge.source]);
  }
  // A branch or loop body is its parent's field again (its card's id is not its own).
  const inner = new Map<string, Map<InnerSlot, StepDef>>();
  for (const node of nodes) {
    if (!node.data.inner) continue;
    const { parent, slot } = node.data.inner;
    const original = nodes.find((n) => n.id === parent)?.data.step[slot] as
      { id?: string } | undefined;
    const spec: Record<string, unknown> = { ...node.data.step };
    delete spec.id; // the card's id; a spec keeps its own id only if it had one
    if (original?.id !== undefined) spec.id = original.id;
    inner.set(parent, (inner.get(parent) ?? new Map()).set(slot, spec as StepDef));
  }
  const positions: Record<string, XY> = {};
  const steps = nodes
    .filter((node) => !node.data.inner)
    .map((node) => {
      const { depends_on: declared, ...rest } = node.data.step;
      positions[node.id] = { x: node.position.x, y: node.position.y };
      const deps = incoming.get(node.id) ?? [];
      const step: StepDef = { ...rest, id: node.id };
      for (const { slot } of innerSteps(node.data.step)) {
        const spec = inner.get(node.id)?.get(slot);
        if (spec) step[slot] = spec;
        else delete step[slot]; // its card was removed
      }
      if (deps.length || declared !== undefined) step.depends_on = deps;
      return step;
    });
  return { ...base, steps, ui: { ...(base.ui ?? {}), nodes: positions } };
}
