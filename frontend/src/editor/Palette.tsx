// The palette: step types, models and functions from the catalog. Drag one
// onto the canvas (HTML5 drag and drop) or press it to add at the centre.
import clsx from "clsx";
import { useState } from "react";
import type { Catalog } from "../dag/types";
import { STEP_TYPE_ICON, STEP_TYPE_LABEL } from "../dag/types";

export const DRAG_MIME = "application/x-prsm-step";

export interface PaletteSpec {
  type: string;
  model?: string;
  function?: string;
}

function Item({
  spec,
  title,
  detail,
  onAdd,
}: {
  spec: PaletteSpec;
  title: string;
  detail?: string;
  onAdd: (spec: PaletteSpec) => void;
}) {
  return (
    <li>
      <button
        type="button"
        draggable
        onDragStart={(e) => {
          e.dataTransfer.setData(DRAG_MIME, JSON.stringify(spec));
          e.dataTransfer.setData("text/plain", title);
          e.dataTransfer.effectAllowed = "copy";
        }}
        onClick={() => onAdd(spec)}
        aria-label={`Add ${title}`}
        title={detail ? `${title}: ${detail}` : title}
        className="group flex w-full cursor-grab items-center gap-2 rounded-md border border-slate-200 bg-white px-2 py-1.5 text-left text-sm shadow-sm hover:border-brand-500 hover:bg-brand-50 focus-visible:outline-2 focus-visible:outline-brand-500 active:cursor-grabbing"
        data-testid="palette-item"
      >
        <span aria-hidden className="w-4 text-center text-brand-600">
          {STEP_TYPE_ICON[spec.type] ?? "•"}
        </span>
        <span className="min-w-0 flex-1">
          <span className="block truncate font-medium text-slate-800">{title}</span>
          {detail && <span className="block truncate text-xs text-slate-500">{detail}</span>}
        </span>
      </button>
    </li>
  );
}

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section>
      <h3 className="mb-1 mt-3 text-[11px] font-semibold uppercase tracking-wide text-slate-500">
        {title}
      </h3>
      <ul className="space-y-1">{children}</ul>
    </section>
  );
}

export function Palette({
  catalog,
  loading,
  error,
  onAdd,
}: {
  catalog?: Catalog;
  loading: boolean;
  error?: string;
  onAdd: (spec: PaletteSpec) => void;
}) {
  const [filter, setFilter] = useState("");
  const f = filter.trim().toLowerCase();
  const match = (...texts: (string | undefined)[]) =>
    !f || texts.some((t) => t?.toLowerCase().includes(f));
  return (
    <aside
      aria-label="Palette"
      className="flex h-full w-52 shrink-0 flex-col border-r border-slate-200 bg-slate-50 xl:w-60"
    >
      <div className="border-b border-slate-200 p-2">
        <input
          type="search"
          aria-label="Filter the palette"
          placeholder="Search steps, models, functions"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          className="block w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm focus:border-brand-500 focus:outline-none focus:ring-1 focus:ring-brand-500"
        />
        <p className="mt-1 text-[11px] text-slate-500">Drag onto the canvas, or press to add.</p>
      </div>
      <div className={clsx("min-h-0 flex-1 overflow-y-auto px-2 pb-3")}>
        {loading && <p className="mt-3 text-sm text-slate-500">Loading the catalog…</p>}
        {error && <p className="mt-3 text-sm text-red-700">Could not load the catalog: {error}</p>}
        {catalog && (
          <>
            <Section title="Step types">
              {catalog.step_types
                .filter((t) => match(t.type, STEP_TYPE_LABEL[t.type], t.description))
                .map((t) => (
                  <Item
                    key={t.type}
                    spec={{ type: t.type }}
                    title={STEP_TYPE_LABEL[t.type] ?? t.type}
                    detail={t.description}
                    onAdd={onAdd}
                  />
                ))}
            </Section>
            <Section title="Models">
              {catalog.models
                .filter((m) => match(m.name, m.provider, m.description ?? ""))
                .map((m) => (
                  <Item
                    key={m.name}
                    spec={{ type: "inference", model: m.name }}
                    title={m.name}
                    detail={`${m.description ? `${m.description} · ` : ""}${m.provider}${m.team ? ` · team ${m.team}` : ""}${m.available ? "" : " · unavailable"}`}
                    onAdd={onAdd}
                  />
                ))}
            </Section>
            <Section title="Functions">
              {catalog.functions
                .filter((fn) => match(fn.name, fn.description))
                .map((fn) => (
                  <Item
                    key={fn.name}
                    spec={{ type: "data_processing", function: fn.name }}
                    title={fn.name}
                    detail={fn.description.replace(/``/g, "")}
                    onAdd={onAdd}
                  />
                ))}
            </Section>
          </>
        )}
      </div>
      <p
        className="border-t border-slate-200 px-2 py-1.5 text-[11px] leading-4 text-slate-500"
        aria-label="Keyboard shortcuts"
      >
        <kbd>Del</kbd> delete · <kbd>Ctrl+C</kbd>/<kbd>V</kbd> copy, paste · <kbd>Ctrl+Z</kbd> undo
        · <kbd>Ctrl+Shift+Z</kbd> redo · <kbd>Shift</kbd>+click or drag to select several
      </p>
    </aside>
  );
}
