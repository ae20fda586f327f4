// The definition's DAG for the run view: one node per top-level step, an edge per
// dependency (`depends_on` plus every `${step.result}` reference), and positions
// from the definition's `ui.nodes` when every step has one, else ELK's layered
// layout. Conditionals and loops are groups (RunGroupNode) of the editor's size.

import { GROUP_HEADER, GROUP_ROW, GROUP_WIDTH } from "../dag/convert";
import type { Definition, DefinitionStep } from "./types";

export interface GraphNode {
  id: string;
  step: DefinitionStep;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  /** True for an ordering-only edge (depends_on without a data reference). */
  orderOnly: boolean;
}

const STEP_REF = /\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*result/g;

/** Step ids referenced as `${id.result…}` anywhere in a step's fields. */
export function referencedSteps(step: DefinitionStep): Set<string> {
  const found = new Set<string>();
  const text = JSON.stringify({ ...step, id: undefined, depends_on: undefined });
  for (const match of text.matchAll(STEP_REF)) found.add(match[1]);
  return found;
}

export function definitionGraph(definition: Definition): {
  nodes: GraphNode[];
  edges: GraphEdge[];
} {
  const ids = new Set<string>();
  const nodes: GraphNode[] = [];
  for (const step of definition.steps ?? []) {
    if (!step || typeof step.id !== "string" || ids.has(step.id)) continue;
    ids.add(step.id);
    nodes.push({ id: step.id, step });
  }
  const edges: GraphEdge[] = [];
  for (const { id, step } of nodes) {
    const data = referencedSteps(step);
    const order = new Set(step.depends_on ?? []);
    for (const source of new Set([...order, ...data])) {
      if (source === id || !ids.has(source)) continue;
      edges.push({ id: `${source}->${id}`, source, target: id, orderOnly: !data.has(source) });
    }
  }
  return { nodes, edges };
}

export interface Position {
  x: number;
  y: number;
}

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 76;

/** The stored editor positions, if every node has one. */
export function storedPositions(
  definition: Definition,
  nodes: GraphNode[],
): Record<string, Position> | null {
  const stored = definition.ui?.nodes;
  if (!stored) return null;
  const out: Record<string, Position> = {};
  for (const node of nodes) {
    const p = stored[node.id];
    if (!p || typeof p.x !== "number" || typeof p.y !== "number") return null;
    out[node.id] = { x: p.x, y: p.y };
  }
  return out;
}

/** A run's group sizes: the editor's, so positions saved by the editor never overlap. */
export function groupSize(type: string): { width: number; height: number } | null {
  if (type === "conditional") return { width: GROUP_WIDTH, height: GROUP_HEADER + 2 * GROUP_ROW };
  if (type === "loop") return { width: GROUP_WIDTH, height: GROUP_HEADER + GROUP_ROW };
  return null;
}

/** ELK's layered layout, left to right (elkjs is loaded only when needed). */
export async function elkPositions(
  nodes: GraphNode[],
  edges: GraphEdge[],
): Promise<Record<string, Position>> {
  const { default: ELK } = await import("elkjs/lib/elk.bundled.js");
  const elk = new ELK();
  const graph = await elk.layout({
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.layered.spacing.nodeNodeBetweenLayers": "70",
      "elk.spacing.nodeNode": "36",
      "elk.edgeRouting": "SPLINES",
    },
    children: nodes.map((n) => ({
      id: n.id,
      ...(groupSize(n.step.type) ?? { width: NODE_WIDTH, height: NODE_HEIGHT }),
    })),
    edges: edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  });
  const out: Record<string, Position> = {};
  for (const child of graph.children ?? []) out[child.id] = { x: child.x ?? 0, y: child.y ?? 0 };
  return out;
}

/** Positions for the graph: stored ones when complete, else a layered layout. */
export async function layoutGraph(
  definition: Definition,
  graph: { nodes: GraphNode[]; edges: GraphEdge[] },
): Promise<Record<string, Position>> {
  return storedPositions(definition, graph.nodes) ?? elkPositions(graph.nodes, graph.edges);
}
