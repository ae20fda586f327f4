// JSON/YAML view of the document, kept in sync both ways with the canvas.
// Canvas → text: the text is rewritten whenever the document changes (unless
// the change came from this text). Text → canvas: valid text replaces the
// document (one undo entry); invalid text shows why and changes nothing.
import { json } from "@codemirror/lang-json";
import { yaml } from "@codemirror/lang-yaml";
import { Annotation, Compartment, EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { basicSetup } from "codemirror";
import clsx from "clsx";
import { useEffect, useRef, useState } from "react";
import type { WorkflowDefinition } from "../dag/types";
import { parseDefinition, serialize, type CodeFormat } from "./codec";
import { commit, useDocStore } from "./store";

/** Marks transactions that mirror the canvas, so they are not parsed back. */
const External = Annotation.define<boolean>();

export function CodeView({ readOnly }: { readOnly: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const language = useRef(new Compartment());
  const [format, setFormat] = useState<CodeFormat>("json");
  const [error, setError] = useState<string | null>(null);
  const fromText = useRef<WorkflowDefinition | null>(null);
  const formatRef = useRef(format);
  formatRef.current = format;
  const timer = useRef<number | undefined>(undefined);
  const doc = useDocStore((s) => s.doc);

  useEffect(() => {
    const applyText = (text: string) => {
      try {
        const parsed = parseDefinition(text, formatRef.current);
        setError(null);
        if (JSON.stringify(parsed) === JSON.stringify(useDocStore.getState().doc)) return;
        fromText.current = parsed;
        commit(parsed, "code");
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      }
    };
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: serialize(useDocStore.getState().doc, formatRef.current),
        extensions: [
          basicSetup,
          language.current.of(json()),
          EditorState.readOnly.of(readOnly),
          EditorView.contentAttributes.of({ "aria-label": "Definition source" }),
          EditorView.updateListener.of((update) => {
            if (
              !update.docChanged ||
              update.transactions.every((t) => t.annotation(External) === true)
            )
              return;
            window.clearTimeout(timer.current);
            const text = update.state.doc.toString();
            timer.current = window.setTimeout(() => applyText(text), 300);
          }),
        ],
      }),
    });
    view.current = v;
    return () => {
      window.clearTimeout(timer.current);
      v.destroy();
      view.current = null;
    };
  }, [readOnly]);

  // Canvas → text.
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    if (fromText.current === doc) return; // this text made the change: leave the user's text alone
    fromText.current = null;
    const text = serialize(doc, format);
    if (text === v.state.doc.toString()) return;
    window.clearTimeout(timer.current);
    setError(null);
    v.dispatch({
      changes: { from: 0, to: v.state.doc.length, insert: text },
      annotations: External.of(true),
      effects: language.current.reconfigure(format === "json" ? json() : yaml()),
    });
  }, [doc, format]);

  return (
    <section
      aria-label="Code view"
      className="flex h-full w-[44%] min-w-[360px] shrink-0 flex-col border-l border-slate-200 bg-white"
    >
      <div className="flex items-center gap-2 border-b border-slate-200 px-3 py-2">
        <h2 className="text-sm font-semibold text-slate-900">Definition</h2>
        <div
          role="group"
          aria-label="Format"
          className="ml-auto flex overflow-hidden rounded-md border border-slate-300 text-xs"
        >
          {(["json", "yaml"] as const).map((f) => (
            <button
              key={f}
              type="button"
              aria-pressed={format === f}
              onClick={() => setFormat(f)}
              className={clsx(
                "px-2 py-1 font-medium focus-visible:outline-2 focus-visible:outline-brand-500",
                format === f
                  ? "bg-brand-600 text-white"
                  : "bg-white text-slate-700 hover:bg-slate-50",
              )}
            >
              {f.toUpperCase()}
            </button>
          ))}
        </div>
      </div>
      {error && (
        <p
          role="alert"
          className="border-b border-red-200 bg-red-50 px-3 py-1.5 text-xs text-red-800"
          data-testid="code-error"
        >
          Not applied — {error}
        </p>
      )}
      <div
        ref={host}
        className="min-h-0 flex-1 overflow-auto text-xs [&_.cm-editor]:h-full"
        data-testid="code-editor"
      />
    </section>
  );
}
