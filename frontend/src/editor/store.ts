// Three stores, as in Galaxy's editor:
//  - useDocStore: the document (steps, edges as depends_on, layout in ui);
//  - useDocStore.temporal: its undo/redo history (zundo);
//  - useUiStore: selection, drag-in-progress, saved snapshot (→ dirty), panels.
// Every edit goes through `commit`, which makes one history entry (or merges
// into the previous one when the same field is edited again in a row).
import { temporal } from "zundo";
import { create } from "zustand";
import type { WorkflowDefinition, XY } from "../dag/types";
import { emptyDefinition, moveNodes } from "./documentActions";

interface DocState {
  doc: WorkflowDefinition;
}

export const useDocStore = create<DocState>()(
  temporal(() => ({ doc: emptyDefinition() }), {
    partialize: (state) => ({ doc: state.doc }),
    equality: (a, b) => a.doc === b.doc,
    limit: 300,
  }),
);

const MERGE_WINDOW_MS = 1500;
let lastKey: string | null = null;
let lastAt = 0;

/**
 * Apply an edit as one undo entry. Edits with the same `mergeKey` in quick
 * succession (typing in one field) become a single entry.
 */
export function commit(next: WorkflowDefinition, mergeKey?: string): void {
  const current = useDocStore.getState().doc;
  if (next === current) return;
  const history = useDocStore.temporal.getState();
  const now = Date.now();
  const merge = mergeKey !== undefined && mergeKey === lastKey && now - lastAt < MERGE_WINDOW_MS;
  if (merge) history.pause();
  useDocStore.setState({ doc: next });
  if (merge) history.resume();
  lastKey = mergeKey ?? null;
  lastAt = now;
}

/** Change the document without an undo entry (loading, the automatic first layout). */
export function replaceSilently(next: WorkflowDefinition): void {
  const history = useDocStore.temporal.getState();
  history.pause();
  useDocStore.setState({ doc: next });
  history.resume();
}

/** Load a document: no history, nothing dirty. */
export function loadDocument(doc: WorkflowDefinition): void {
  replaceSilently(doc);
  useDocStore.temporal.getState().clear();
  useUiStore.setState({
    savedDoc: doc,
    selected: new Set(),
    selectedEdges: new Set(),
    dragPositions: null,
  });
  lastKey = null;
}

export function undo(): void {
  lastKey = null;
  useDocStore.temporal.getState().undo();
}

export function redo(): void {
  lastKey = null;
  useDocStore.temporal.getState().redo();
}

export type SideTab = "properties" | "problems";

interface UiState {
  selected: ReadonlySet<string>;
  selectedEdges: ReadonlySet<string>;
  /** Positions of nodes being dragged: shown, not yet in the document. */
  dragPositions: Record<string, XY> | null;
  /** The document as last saved or loaded; dirty = doc !== savedDoc. */
  savedDoc: WorkflowDefinition | null;
  codeOpen: boolean;
  sideTab: SideTab;
  toast: { text: string; tone: "info" | "error" | "success"; at: number } | null;
  /**
   * The last auto-layout's edge routes (`source->target` → points). An edge
   * follows its route while both its ends are where the layout put them.
   */
  routes: Record<string, XY[]>;
}

export const useUiStore = create<UiState>()(() => ({
  selected: new Set<string>(),
  selectedEdges: new Set<string>(),
  dragPositions: null,
  savedDoc: null,
  codeOpen: false,
  sideTab: "properties",
  toast: null,
  routes: {},
}));

export function showToast(text: string, tone: "info" | "error" | "success" = "info"): void {
  useUiStore.setState({ toast: { text, tone, at: Date.now() } });
}

export function select(ids: Iterable<string>): void {
  useUiStore.setState({ selected: new Set(ids), selectedEdges: new Set() });
}

export function useDirty(): boolean {
  const doc = useDocStore((s) => s.doc);
  const saved = useUiStore((s) => s.savedDoc);
  return saved !== null && doc !== saved;
}

export function isDirty(): boolean {
  const saved = useUiStore.getState().savedDoc;
  return saved !== null && useDocStore.getState().doc !== saved;
}

/** A drag in progress: positions are shown from the UI store, the document is untouched. */
export function dragMove(positions: Record<string, XY>): void {
  useUiStore.setState({
    dragPositions: { ...(useUiStore.getState().dragPositions ?? {}), ...positions },
  });
}

/** The drag ended: its final positions go into the document as ONE undo entry. */
export function dragEnd(final: Record<string, XY> = {}): void {
  const positions = { ...(useUiStore.getState().dragPositions ?? {}), ...final };
  useUiStore.setState({ dragPositions: null });
  const doc = useDocStore.getState().doc;
  const moved = Object.entries(positions).some(([id, p]) => {
    const old = doc.ui?.nodes?.[id];
    return !old || old.x !== p.x || old.y !== p.y;
  });
  if (moved) commit(moveNodes(doc, positions));
}
