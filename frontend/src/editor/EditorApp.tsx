// The editor island: palette | canvas | side panel (or code view), toolbar,
// validation as you edit, save with a change note, import/export, read-only.
import { useQueryClient } from "@tanstack/react-query";
import { ReactFlowProvider, useReactFlow, type Viewport } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import clsx from "clsx";
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useStore } from "zustand";
import type { StepIssues } from "../dag/convert";
import { elkLayout, freeSpot as freeSpotAmong, quickLayout } from "../dag/layout";
import type { Issue, StepDef, WorkflowDefinition, XY } from "../dag/types";
import { ApiError } from "../lib/api";
import { announceWorkflowChanged } from "../lib/workflowHeader";
import { nodeSize } from "../dag/convert";
import { Canvas, fitVisible, LARGE, startViewport } from "./Canvas";
import { parseDefinition, serialize, type CodeFormat } from "./codec";
import {
  addSteps,
  cloneSteps,
  emptyDefinition,
  setAllPositions,
  uniqueStepId,
} from "./documentActions";
import "./editor.css";
import { Palette, type PaletteSpec } from "./Palette";
import {
  useCatalog,
  useDefinitionSchema,
  useSaveWorkflow,
  useValidation,
  useWorkflow,
} from "./queries";
import { usePanelPrefs } from "./panelPrefs";
import { SidePanel } from "./SidePanel";
import {
  commit,
  isDirty,
  loadDocument,
  redo,
  replaceSilently,
  select,
  showToast,
  undo,
  useDirty,
  useDocStore,
  useUiStore,
} from "./store";

// CodeMirror is loaded only when the code view is first opened.
const CodeView = lazy(() => import("./CodeView").then((m) => ({ default: m.CodeView })));

export interface EditorProps {
  workflowId: string | null;
  /** Whose panel choices to remember (the signed-in user's id). */
  userId?: number | string | null;
  canModify: boolean;
  canExecute?: boolean;
  canDelete?: boolean;
}

export const READ_ONLY_TEXT = "Read-only: you can view this workflow but not change it";

const primaryButton =
  "shrink-0 whitespace-nowrap rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-500 disabled:opacity-50";
const secondaryButton =
  "shrink-0 whitespace-nowrap rounded-md border border-slate-300 bg-white px-2.5 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-brand-500 disabled:cursor-not-allowed disabled:opacity-40";

/** Positions for steps the document does not place (quick layering); the rest kept. */
export function withMissingPositions(doc: WorkflowDefinition): {
  doc: WorkflowDefinition;
  allMissing: boolean;
} {
  const stored = doc.ui?.nodes ?? {};
  const missing = doc.steps.filter((s) => !stored[s.id]);
  if (!missing.length) return { doc, allMissing: false };
  const quick = quickLayout(doc.steps, nodeSize);
  const nodes: Record<string, XY> = { ...stored };
  for (const s of missing) nodes[s.id] = quick[s.id];
  return {
    doc: { ...doc, ui: { ...(doc.ui ?? {}), nodes } },
    allMissing: missing.length === doc.steps.length,
  };
}

/** The place nearest `start` where a new card overlaps no other step. */
function freeSpot(doc: WorkflowDefinition, start: XY): XY {
  const taken = doc.steps.flatMap((s) => {
    const p = doc.ui?.nodes?.[s.id];
    return p ? [{ ...p, ...nodeSize(s) }] : [];
  });
  return freeSpotAmong(taken, start);
}

/**
 * The editor's height: the whole window below where it starts (the page header
 * scrolls away above it), never less than `min`.
 */
function useFullHeight(ref: React.RefObject<HTMLElement | null>, min = 420): number | null {
  const [height, setHeight] = useState<number | null>(null);
  useEffect(() => {
    const measure = () => {
      const el = ref.current;
      if (!el) return;
      const top = el.getBoundingClientRect().top + window.scrollY;
      // The page's own bottom padding stays visible below the editor.
      setHeight(Math.max(min, Math.floor(window.innerHeight - top - 12)));
    };
    measure();
    window.addEventListener("resize", measure);
    return () => window.removeEventListener("resize", measure);
  }, [ref, min]);
  return height;
}

function markReady(): void {
  if (document.body.dataset.editorReady === "true") return;
  performance.mark("prsm:editor-interactive");
  document.body.dataset.editorReady = "true";
}

export function EditorApp(props: EditorProps) {
  const workflow = useWorkflow(props.workflowId);
  useCatalog(); // fetched alongside the workflow, not after it
  useDefinitionSchema();
  const [loaded, setLoaded] = useState(false);
  const [needsLayout, setNeedsLayout] = useState(false);
  useEffect(() => {
    if (props.workflowId === null) {
      loadDocument(emptyDefinition());
      setLoaded(true);
    } else if (workflow.data && !loaded) {
      performance.mark("prsm:editor-data");
      const { doc, allMissing } = withMissingPositions(workflow.data.definition);
      loadDocument(doc);
      setNeedsLayout(allMissing && doc.steps.length > 1);
      setLoaded(true);
    }
  }, [props.workflowId, workflow.data, loaded]);

  if (workflow.isError)
    return (
      <div
        role="alert"
        className="rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-800"
      >
        Could not load this workflow: {workflow.error.message}
      </div>
    );
  if (!loaded)
    return (
      <div className="flex h-[70vh] items-center justify-center rounded-lg border border-slate-200 bg-white text-sm text-slate-500">
        Loading the editor…
      </div>
    );
  return (
    <ReactFlowProvider>
      <EditorShell {...props} needsLayout={needsLayout} />
    </ReactFlowProvider>
  );
}

function useDebounced<T>(value: T, ms: number): T {
  const [out, setOut] = useState(value);
  useEffect(() => {
    const t = window.setTimeout(() => setOut(value), ms);
    return () => window.clearTimeout(t);
  }, [value, ms]);
  return out;
}

function isTextTarget(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return (
    el.isContentEditable ||
    ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName) ||
    !!el.closest?.(".cm-editor")
  );
}

let clipboard: { steps: StepDef[]; positions: Record<string, XY> } | null = null;

function EditorShell({
  workflowId,
  canModify,
  needsLayout,
  userId,
}: EditorProps & { needsLayout: boolean }) {
  const readOnly = !canModify;
  const [prefs, togglePref] = usePanelPrefs(userId);
  const shellRef = useRef<HTMLDivElement>(null);
  const height = useFullHeight(shellRef);
  const flow = useReactFlow();
  const queryClient = useQueryClient();
  const catalog = useCatalog();
  const definitionSchema = useDefinitionSchema();
  const doc = useDocStore((s) => s.doc);
  const dirty = useDirty();
  const codeOpen = useUiStore((s) => s.codeOpen);
  const toast = useUiStore((s) => s.toast);
  const canUndo = useStore(useDocStore.temporal, (s) => s.pastStates.length > 0);
  const canRedo = useStore(useDocStore.temporal, (s) => s.futureStates.length > 0);
  const viewportRef = useRef<Viewport | null>(null);
  const [saveOpen, setSaveOpen] = useState(false);
  const [ready, setReady] = useState(false);

  // Validation as you edit (debounced), by the server's validator.
  const debouncedDoc = useDebounced(doc, 400);
  const body = useMemo(() => JSON.stringify(debouncedDoc), [debouncedDoc]);
  const validation = useValidation(ready ? body : null); // after the first paint
  const issues: Issue[] = useMemo(
    () => (validation.data ? [...validation.data.errors, ...validation.data.warnings] : []),
    [validation.data],
  );
  const issuesByStep = useMemo(() => {
    const map = new Map<string, StepIssues>();
    for (const issue of issues) {
      if (!issue.step) continue;
      const entry = map.get(issue.step) ?? { errors: [], warnings: [] };
      (issue.severity === "error" ? entry.errors : entry.warnings).push(issue.message);
      map.set(issue.step, entry);
    }
    return map;
  }, [issues]);

  // Toasts fade on their own.
  useEffect(() => {
    if (!toast) return;
    const t = window.setTimeout(() => useUiStore.setState({ toast: null }), 3000);
    return () => window.clearTimeout(t);
  }, [toast]);

  const addAt = useCallback(
    (spec: PaletteSpec, position: XY) => {
      if (readOnly) return;
      const current = useDocStore.getState().doc;
      const id = uniqueStepId(
        spec.model ?? spec.function ?? spec.type,
        current.steps.map((s) => s.id),
      );
      const step: StepDef = { id, type: spec.type };
      if (spec.model) step.model = spec.model;
      if (spec.function) step.function = spec.function;
      commit(addSteps(current, [step], { [id]: position }));
      select([id]);
      useUiStore.setState({ sideTab: "properties" });
    },
    [readOnly],
  );

  const addAtCentre = useCallback(
    (spec: PaletteSpec) => {
      const canvas = document
        .querySelector('[data-testid="editor-canvas"]')
        ?.getBoundingClientRect();
      const centre = canvas
        ? flow.screenToFlowPosition({
            x: canvas.left + canvas.width / 2,
            y: canvas.top + canvas.height / 2,
          })
        : { x: 0, y: 0 };
      addAt(
        spec,
        freeSpot(useDocStore.getState().doc, {
          x: Math.round(centre.x - 116),
          y: Math.round(centre.y - 40),
        }),
      );
    },
    [addAt, flow],
  );

  const prefsRef = useRef(prefs);
  prefsRef.current = prefs;

  const autoLayout = useCallback(
    async (record: boolean) => {
      const before = useDocStore.getState().doc;
      try {
        const canvas = document
          .querySelector('[data-testid="editor-canvas"]')
          ?.getBoundingClientRect();
        const sizes = Object.fromEntries(before.steps.map((s) => [s.id, nodeSize(s)]));
        const { positions, routes } = await elkLayout(
          before.steps,
          sizes,
          canvas && canvas.height > 0 ? canvas.width / canvas.height : 1.6,
        );
        const now = useDocStore.getState().doc;
        if (!record && now !== before) return; // the user edited meanwhile: keep their layout
        const next = setAllPositions(now, { ...(now.ui?.nodes ?? {}), ...positions });
        useUiStore.setState({ routes });
        if (record) commit(next);
        else {
          const wasSaved = useUiStore.getState().savedDoc === now;
          replaceSilently(next);
          if (wasSaved) useUiStore.setState({ savedDoc: next });
        }
        window.requestAnimationFrame(() => {
          if (next.steps.length > LARGE)
            void flow.setViewport(startViewport(Object.values(next.ui?.nodes ?? {})), {
              duration: record ? 300 : 0,
            });
          else fitVisible(flow, prefsRef.current.minimap, record ? 300 : 0);
        });
      } catch (e) {
        showToast(`Auto-layout failed: ${e instanceof Error ? e.message : String(e)}`, "error");
      }
    },
    [flow],
  );

  // The first layout (only when the document places no step) runs in the worker
  // after the editor is already interactive; tests wait for it to settle.
  useEffect(() => {
    if (!ready) return;
    if (!needsLayout) {
      document.body.dataset.editorLayout = "done";
      return;
    }
    void autoLayout(false).finally(() => {
      window.requestAnimationFrame(() => (document.body.dataset.editorLayout = "done"));
    });
  }, [ready, needsLayout, autoLayout]);

  const copy = useCallback(() => {
    const { doc } = useDocStore.getState();
    const ids = useUiStore.getState().selected;
    const steps = doc.steps.filter((s) => ids.has(s.id));
    if (!steps.length) return;
    const positions: Record<string, XY> = {};
    for (const s of steps) positions[s.id] = doc.ui?.nodes?.[s.id] ?? { x: 0, y: 0 };
    clipboard = { steps: structuredClone(steps), positions };
    showToast(`Copied ${steps.length} step${steps.length > 1 ? "s" : ""}`);
  }, []);

  const pasteCount = useRef(0);
  const paste = useCallback(() => {
    if (readOnly || !clipboard) return;
    pasteCount.current += 1;
    const current = useDocStore.getState().doc;
    const off = 40 * pasteCount.current;
    const { steps, positions } = cloneSteps(current, clipboard.steps, clipboard.positions, {
      x: off,
      y: off,
    });
    commit(addSteps(current, steps, positions));
    select(steps.map((s) => s.id));
  }, [readOnly]);

  // Keyboard: undo/redo, copy/paste (text fields keep their own shortcuts).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTextTarget(e.target)) return;
      if (e.key === "Escape") return select([]);
      const mod = e.ctrlKey || e.metaKey;
      if (!mod) return;
      const key = e.key.toLowerCase();
      if (key === "z" && !readOnly) {
        e.preventDefault();
        if (e.shiftKey) redo();
        else undo();
      } else if (key === "y" && !readOnly) {
        e.preventDefault();
        redo();
      } else if (key === "a") {
        e.preventDefault();
        select(useDocStore.getState().doc.steps.map((s) => s.id));
      } else if (key === "c") {
        copy();
      } else if (key === "v" && !readOnly) {
        e.preventDefault();
        paste();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [copy, paste, readOnly]);

  // Leaving with unsaved changes asks first.
  useEffect(() => {
    const beforeUnload = (e: BeforeUnloadEvent) => {
      if (!isDirty()) return;
      e.preventDefault();
      e.returnValue = "";
    };
    const onClick = (e: MouseEvent) => {
      if (
        !isDirty() ||
        e.defaultPrevented ||
        e.button !== 0 ||
        e.metaKey ||
        e.ctrlKey ||
        e.shiftKey
      )
        return;
      const a = (e.target as HTMLElement | null)?.closest?.("a[href]") as HTMLAnchorElement | null;
      if (!a || a.hasAttribute("download") || a.target === "_blank") return;
      if (!window.confirm("You have unsaved changes. Leave this page and lose them?")) {
        e.preventDefault();
        e.stopPropagation();
      } else {
        useUiStore.setState({ savedDoc: useDocStore.getState().doc }); // no second prompt
      }
    };
    window.addEventListener("beforeunload", beforeUnload);
    document.addEventListener("click", onClick, true);
    return () => {
      window.removeEventListener("beforeunload", beforeUnload);
      document.removeEventListener("click", onClick, true);
    };
  }, []);

  const fileInput = useRef<HTMLInputElement>(null);
  const onImport = async (file: File) => {
    try {
      const text = await file.text();
      const format: CodeFormat = /\.ya?ml$/i.test(file.name)
        ? "yaml"
        : /\.json$/i.test(file.name)
          ? "json"
          : text.trim().startsWith("{")
            ? "json"
            : "yaml";
      const parsed = parseDefinition(text, format);
      const { doc: placed, allMissing } = withMissingPositions(parsed);
      commit(placed);
      select([]);
      showToast(`Imported ${file.name}`, "success");
      if (allMissing && placed.steps.length > 1) void autoLayout(false);
      else window.requestAnimationFrame(() => fitVisible(flow, prefs.minimap));
    } catch (e) {
      showToast(
        `Could not import ${file.name}: ${e instanceof Error ? e.message : String(e)}`,
        "error",
      );
    }
  };

  const exportAs = (format: CodeFormat) => {
    const a = document.createElement("a");
    if (workflowId && !isDirty()) {
      a.href = `/api/v1/workflows/${workflowId}/export?format=${format}`;
    } else {
      const blob = new Blob([serialize(useDocStore.getState().doc, format)], {
        type: format === "json" ? "application/json" : "application/yaml",
      });
      a.href = URL.createObjectURL(blob);
    }
    a.download = `${workflowId ?? "workflow"}.${format}`;
    document.body.appendChild(a);
    a.click();
    a.remove();
  };

  const errorCount = validation.data?.errors.length ?? 0;
  const onReady = useCallback(() => {
    window.requestAnimationFrame(() => {
      markReady();
      setReady(true);
    });
  }, []);

  return (
    <div
      ref={shellRef}
      className="flex h-[calc(100vh-8rem)] min-h-[420px] flex-col overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm"
      style={height ? { height } : undefined}
      data-testid="editor"
    >
      <div
        className="flex flex-nowrap items-center gap-1.5 border-b border-slate-200 px-2 py-2"
        role="toolbar"
        aria-label="Editor toolbar"
      >
        <div className="flex shrink-0 items-center gap-0.5" role="group" aria-label="Panels">
          {!readOnly && (
            <PanelToggle
              open={prefs.palette}
              name="palette"
              onClick={() => togglePref("palette")}
              icon="◧"
            />
          )}
          <PanelToggle
            open={prefs.minimap}
            name="minimap"
            onClick={() => togglePref("minimap")}
            icon="▣"
          />
          <PanelToggle
            open={prefs.panel}
            name="side panel"
            onClick={() => togglePref("panel")}
            icon="◨"
          />
        </div>
        <div className="mr-auto flex min-w-0 items-center gap-2">
          <span className="truncate text-sm font-semibold text-slate-900">
            {doc.name || "Untitled workflow"}
          </span>
          {dirty && (
            <span
              className="rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-800"
              data-testid="dirty"
            >
              Unsaved changes
            </span>
          )}
          <ValidationSummary
            onShow={() => {
              if (!prefs.panel) togglePref("panel"); // the problems are in the side panel
            }}
            checked={!!validation.data}
            failed={validation.isError && !validation.data}
            loading={validation.isFetching}
            errors={errorCount}
            warnings={validation.data?.warnings.length ?? 0}
            cost={validation.data?.estimated_cost ?? null}
          />
        </div>
        {!readOnly && (
          <>
            <button
              type="button"
              className={secondaryButton}
              onClick={undo}
              disabled={!canUndo}
              aria-label="Undo (Ctrl+Z)"
              title="Undo (Ctrl+Z)"
            >
              ↶<span className="hidden xl:inline"> Undo</span>
            </button>
            <button
              type="button"
              className={secondaryButton}
              onClick={redo}
              disabled={!canRedo}
              aria-label="Redo (Ctrl+Shift+Z)"
              title="Redo (Ctrl+Shift+Z)"
            >
              ↷<span className="hidden xl:inline"> Redo</span>
            </button>
            <button
              type="button"
              className={secondaryButton}
              onClick={() => void autoLayout(true)}
              disabled={doc.steps.length < 2}
            >
              Auto-layout
            </button>
          </>
        )}
        <button
          type="button"
          className={clsx(
            secondaryButton,
            codeOpen && "border-brand-500 bg-brand-50 text-brand-700",
          )}
          aria-pressed={codeOpen}
          onClick={() => useUiStore.setState({ codeOpen: !codeOpen })}
        >
          {"{ }"} Code
        </button>
        {!readOnly && (
          <>
            <button
              type="button"
              className={secondaryButton}
              onClick={() => fileInput.current?.click()}
            >
              Import
            </button>
            <input
              ref={fileInput}
              type="file"
              accept=".json,.yaml,.yml,application/json,application/yaml,text/yaml"
              className="hidden"
              aria-label="Import a definition file"
              data-testid="import-file"
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (file) void onImport(file);
                e.target.value = "";
              }}
            />
          </>
        )}
        <button
          type="button"
          className={secondaryButton}
          onClick={() => exportAs("json")}
          aria-label="Export JSON"
          title="Export JSON"
        >
          <span className="hidden xl:inline">Export </span>JSON
        </button>
        <button
          type="button"
          className={secondaryButton}
          onClick={() => exportAs("yaml")}
          aria-label="Export YAML"
          title="Export YAML"
        >
          <span className="hidden xl:inline">Export </span>YAML
        </button>
        {!readOnly && (
          <button
            type="button"
            className={primaryButton}
            onClick={() => setSaveOpen(true)}
            disabled={!dirty && workflowId !== null}
          >
            Save
          </button>
        )}
      </div>
      {readOnly && (
        <div
          role="note"
          className="border-b border-amber-200 bg-amber-50 px-3 py-1.5 text-sm text-amber-900"
        >
          {READ_ONLY_TEXT}
        </div>
      )}
      <div className="relative flex min-h-0 flex-1">
        {!readOnly && prefs.palette && (
          <Palette
            catalog={catalog.data}
            loading={catalog.isLoading}
            error={catalog.error?.message}
            onAdd={addAtCentre}
          />
        )}
        <Canvas
          miniMap={prefs.minimap}
          paletteOpen={prefs.palette}
          onOpenDetails={() => {
            if (!prefs.panel) togglePref("panel");
            useUiStore.setState({ sideTab: "properties", codeOpen: false });
          }}
          readOnly={readOnly}
          issues={issuesByStep}
          onAddAt={addAt}
          onReady={onReady}
          viewportRef={viewportRef}
        />
        {codeOpen ? (
          <Suspense
            fallback={
              <div className="w-[44%] min-w-[360px] border-l border-slate-200 p-3 text-sm text-slate-500">
                Loading the code view…
              </div>
            }
          >
            <CodeView readOnly={readOnly} />
          </Suspense>
        ) : prefs.panel ? (
          <SidePanel
            readOnly={readOnly}
            catalog={catalog.data}
            definitionSchema={definitionSchema.data}
            issues={issues}
          />
        ) : null}
        {toast && (
          <div
            role="status"
            className={clsx(
              "pointer-events-none absolute left-1/2 top-3 z-10 -translate-x-1/2 rounded-md px-3 py-1.5 text-sm font-medium shadow-md",
              toast.tone === "error"
                ? "bg-red-600 text-white"
                : toast.tone === "success"
                  ? "bg-emerald-600 text-white"
                  : "bg-slate-800 text-white",
            )}
            data-testid="toast"
          >
            {toast.text}
          </div>
        )}
      </div>
      {saveOpen && (
        <SaveDialog
          workflowId={workflowId}
          viewport={viewportRef.current}
          onClose={() => setSaveOpen(false)}
          onSaved={(id) => {
            setSaveOpen(false);
            if (!workflowId) {
              window.location.assign(`/workflows/${id}/`);
            } else {
              void queryClient.invalidateQueries({ queryKey: ["workflow", workflowId] });
              void queryClient.invalidateQueries({ queryKey: ["workflow-versions", workflowId] });
              announceWorkflowChanged(workflowId);
              showToast("Saved a new version", "success");
            }
          }}
        />
      )}
    </div>
  );
}

/** Shows or hides one panel; the choice is remembered for the user. */
function PanelToggle({
  open,
  name,
  icon,
  onClick,
}: {
  open: boolean;
  name: string;
  icon: string;
  onClick: () => void;
}) {
  const label = `${open ? "Hide" : "Show"} the ${name}`;
  return (
    <button
      type="button"
      onClick={onClick}
      aria-pressed={open}
      aria-label={label}
      title={label}
      data-testid={`toggle-${name.replace(" ", "-")}`}
      className={clsx(
        "h-7 w-7 rounded-md text-base leading-none focus-visible:outline-2 focus-visible:outline-brand-500",
        open ? "bg-brand-50 text-brand-700" : "text-slate-400 hover:bg-slate-100",
      )}
    >
      {icon}
    </button>
  );
}

function ValidationSummary({
  onShow,
  checked,
  failed,
  loading,
  errors,
  warnings,
  cost,
}: {
  onShow: () => void;
  checked: boolean;
  failed: boolean;
  loading: boolean;
  errors: number;
  warnings: number;
  cost: number | null;
}) {
  if (failed)
    return (
      <span className="text-xs text-amber-700" role="status">
        Could not check the workflow right now
      </span>
    );
  if (!checked) return <span className="text-xs text-slate-400">Checking…</span>;
  return (
    <button
      type="button"
      onClick={() => {
        onShow();
        useUiStore.setState({ sideTab: "problems", codeOpen: false });
      }}
      className="flex items-center gap-1 rounded-md px-1.5 py-0.5 text-xs text-slate-600 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-brand-500"
      aria-label={`${errors} errors, ${warnings} warnings; show problems`}
      data-testid="validation-summary"
    >
      {loading && <span className="h-2 w-2 animate-pulse rounded-full bg-blue-500" aria-hidden />}
      {errors === 0 && warnings === 0 ? (
        <span className="text-emerald-700">✓ Valid</span>
      ) : (
        <>
          {errors > 0 && (
            <span className="font-medium text-red-700">
              {errors} error{errors > 1 ? "s" : ""}
            </span>
          )}
          {warnings > 0 && (
            <span className="font-medium text-amber-700">
              {warnings} warning{warnings > 1 ? "s" : ""}
            </span>
          )}
        </>
      )}
      {cost !== null && <span className="text-slate-400">· est. ${cost.toFixed(2)}</span>}
    </button>
  );
}

function SaveDialog({
  workflowId,
  viewport,
  onClose,
  onSaved,
}: {
  workflowId: string | null;
  viewport: Viewport | null;
  onClose: () => void;
  onSaved: (id: string) => void;
}) {
  const [note, setNote] = useState("");
  const save = useSaveWorkflow(workflowId);
  const problems =
    save.error instanceof ApiError ? ((save.error.body as { errors?: Issue[] })?.errors ?? []) : [];
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const doc = useDocStore.getState().doc;
    const toSave: WorkflowDefinition = viewport
      ? {
          ...doc,
          ui: {
            ...(doc.ui ?? {}),
            viewport: { x: viewport.x, y: viewport.y, zoom: viewport.zoom },
          },
        }
      : doc;
    save.mutate(
      { doc: toSave, note: note.trim() },
      {
        onSuccess: (data) => {
          useUiStore.setState({ savedDoc: doc });
          onSaved((data as { id: string }).id);
        },
      },
    );
  };
  return (
    <div
      className="fixed inset-0 z-50 flex items-center justify-center bg-slate-900/30"
      role="dialog"
      aria-modal="true"
      aria-labelledby="save-title"
      onKeyDown={(e) => e.key === "Escape" && onClose()}
    >
      <form
        onSubmit={submit}
        className="w-[28rem] rounded-lg border border-slate-200 bg-white p-4 shadow-lg"
      >
        <h2 id="save-title" className="text-base font-semibold text-slate-900">
          {workflowId ? "Save a new version" : "Create the workflow"}
        </h2>
        <label htmlFor="change-note" className="mt-3 block text-sm font-medium text-slate-700">
          Change note
        </label>
        <textarea
          id="change-note"
          autoFocus
          rows={3}
          maxLength={500}
          value={note}
          onChange={(e) => setNote(e.target.value)}
          placeholder="What changed, e.g. “Added an entity extraction step”"
          className="mt-1 block w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm focus:border-brand-500 focus:outline-none focus:ring-1 focus:ring-brand-500"
        />
        {save.error && (
          <div
            role="alert"
            className="mt-3 rounded-md border border-red-200 bg-red-50 p-2 text-sm text-red-800"
          >
            <p>{save.error.message}</p>
            {problems.length > 1 && (
              <ul className="mt-1 list-disc pl-5 text-xs">
                {problems.slice(0, 8).map((p, i) => (
                  <li key={i}>{p.message}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        <div className="mt-4 flex justify-end gap-2">
          <button type="button" className={secondaryButton} onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className={primaryButton} disabled={save.isPending}>
            {save.isPending ? "Saving…" : workflowId ? "Save version" : "Create workflow"}
          </button>
        </div>
      </form>
    </div>
  );
}
