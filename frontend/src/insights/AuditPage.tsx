// /audit/ (#audit-root {isStaff}): who created, changed, shared, ran, cancelled,
// deleted a workflow or read audited results. Filters live in the URL.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import {
  Button,
  EmptyState,
  ErrorBanner,
  Loading,
  formatDate,
  inputClass,
  labelClass,
} from "../pages/common/ui";
import { AUDIT_PAGE_SIZE, useAudit, type AuditFilters } from "./api";
import { objectHref, summaryText } from "./audit";
import { CsvButton } from "./Chart";
import { csvFilename, type Table } from "./csv";
import { AUDIT_ACTIONS } from "./types";

const EMPTY: AuditFilters = { object: "", actor: "", action: "", since: "", until: "" };
const KEYS = Object.keys(EMPTY) as (keyof AuditFilters)[];

function fromLocation(): { filters: AuditFilters; offset: number } {
  const params = new URLSearchParams(window.location.search);
  const filters = { ...EMPTY };
  for (const k of KEYS) filters[k] = params.get(k) ?? "";
  const offset = Math.max(0, Number.parseInt(params.get("offset") ?? "0", 10) || 0);
  return { filters, offset };
}

function toLocation(filters: AuditFilters, offset: number): void {
  const params = new URLSearchParams();
  for (const k of KEYS) if (filters[k]) params.set(k, filters[k]);
  if (offset) params.set("offset", String(offset));
  const search = params.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${search ? `?${search}` : ""}`);
}

const ACTION_STYLES: Record<string, string> = {
  created: "bg-emerald-50 text-emerald-700 ring-emerald-200",
  updated: "bg-blue-50 text-blue-700 ring-blue-200",
  shared: "bg-brand-50 text-brand-700 ring-brand-100",
  deleted: "bg-red-50 text-red-700 ring-red-200",
  cancelled: "bg-stone-100 text-stone-600 ring-stone-300",
  executed: "bg-slate-100 text-slate-700 ring-slate-300",
  budget_changed: "bg-amber-50 text-amber-800 ring-amber-200",
  results_read: "bg-zinc-50 text-zinc-600 ring-zinc-200",
};

export function AuditPage({ isStaff }: { isStaff: boolean }) {
  const initial = useMemo(fromLocation, []);
  const [draft, setDraft] = useState<AuditFilters>(initial.filters);
  const [filters, setFilters] = useState<AuditFilters>(initial.filters);
  const [offset, setOffset] = useState(initial.offset);
  const audit = useAudit(filters, offset);

  useEffect(() => toLocation(filters, offset), [filters, offset]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters({ ...draft, object: draft.object.trim(), actor: draft.actor.trim() });
    setOffset(0);
  };
  const clear = () => {
    setDraft(EMPTY);
    setFilters(EMPTY);
    setOffset(0);
  };

  const data = audit.data;
  const entries = data?.results ?? [];
  const table: Table = useMemo(
    () => ({
      columns: [
        { key: "time", label: "time" },
        { key: "actor", label: "actor" },
        { key: "action", label: "action" },
        { key: "object_type", label: "object_type" },
        { key: "object_id", label: "object_id" },
        { key: "workflow_id", label: "workflow_id" },
        { key: "client_address", label: "client_address" },
        { key: "summary", label: "summary" },
      ],
      rows: entries.map((e) => ({ ...e, summary: summaryText(e) })),
    }),
    [entries],
  );
  const field = (k: keyof AuditFilters) => ({
    id: `audit-${k}`,
    value: draft[k],
    onChange: (e: { target: { value: string } }) =>
      setDraft((d) => ({ ...d, [k]: e.target.value })),
  });
  const filtered = KEYS.some((k) => filters[k]);

  return (
    <div
      className="space-y-4"
      data-testid="audit"
      data-ready={data && !audit.isPlaceholderData ? "true" : "false"}
    >
      <form
        onSubmit={apply}
        className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
        aria-label="Filter the audit log"
      >
        <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-6">
          <div className="lg:col-span-2">
            <label htmlFor="audit-object" className={labelClass}>
              Object id
            </label>
            <input {...field("object")} className={inputClass} placeholder="wf_… or exec_…" />
          </div>
          <div>
            <label htmlFor="audit-actor" className={labelClass}>
              Actor
            </label>
            <input {...field("actor")} className={inputClass} placeholder="username" />
          </div>
          <div>
            <label htmlFor="audit-action" className={labelClass}>
              Action
            </label>
            <select {...field("action")} className={inputClass}>
              <option value="">Any</option>
              {AUDIT_ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {a.replace(/_/g, " ")}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="audit-since" className={labelClass}>
              From
            </label>
            <input {...field("since")} type="date" className={inputClass} />
          </div>
          <div>
            <label htmlFor="audit-until" className={labelClass}>
              To (inclusive)
            </label>
            <input {...field("until")} type="date" className={inputClass} />
          </div>
        </div>
        <div className="mt-3 flex items-center gap-2">
          <Button type="submit" variant="primary">
            Apply filters
          </Button>
          <Button onClick={clear} disabled={!filtered && !KEYS.some((k) => draft[k])}>
            Clear
          </Button>
          <p className="ml-auto text-xs text-slate-500">
            {isStaff
              ? "As staff you see every entry."
              : "You see the entries on workflows you own and your own actions."}
          </p>
        </div>
      </form>

      {audit.isError && <ErrorBanner error={audit.error} />}
      {audit.isPending && <Loading label="Loading the audit log…" />}
      {data && (
        <section
          aria-labelledby="audit-title"
          className="rounded-lg border border-slate-200 bg-white shadow-sm"
        >
          <header className="flex items-center justify-between gap-3 border-b border-slate-100 px-4 py-2.5">
            <h2 id="audit-title" className="text-sm font-semibold text-slate-900">
              Entries <span className="font-normal text-slate-500">({data.count})</span>
            </h2>
            <CsvButton
              table={table}
              filename={csvFilename("audit", offset ? `from-${offset + 1}` : "")}
              label="Audit entries on this page"
            />
          </header>
          {entries.length === 0 ? (
            <div data-testid="audit-empty">
              <EmptyState
                title={filtered ? "No entries match these filters" : "No audit entries yet"}
              >
                {filtered
                  ? "Try a wider date range or clear the filters."
                  : "Creating, changing, sharing and running workflows is recorded here."}
              </EmptyState>
            </div>
          ) : (
            <div className="overflow-x-auto">
              <table className="min-w-full text-left text-sm" data-testid="audit-table">
                <thead className="bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
                  <tr>
                    {["Time", "Actor", "Action", "Object", "Client address", "Summary"].map((h) => (
                      <th key={h} scope="col" className="px-4 py-2 font-medium">
                        {h}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {entries.map((e) => {
                    const href = objectHref(e);
                    return (
                      <tr
                        key={e.id}
                        data-testid="audit-row"
                        data-action={e.action}
                        className="align-top"
                      >
                        <td className="whitespace-nowrap px-4 py-2 text-slate-600">
                          <time dateTime={e.time}>{formatDate(e.time)}</time>
                        </td>
                        <td className="px-4 py-2 font-medium text-slate-900">
                          {e.actor ?? <span className="text-slate-400">system</span>}
                        </td>
                        <td className="px-4 py-2">
                          <span
                            className={`rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${ACTION_STYLES[e.action] ?? ACTION_STYLES.executed}`}
                          >
                            {e.action.replace(/_/g, " ")}
                          </span>
                        </td>
                        <td className="px-4 py-2">
                          <span className="text-xs text-slate-500">{e.object_type} </span>
                          {href ? (
                            <a
                              className="font-mono text-xs text-brand-700 hover:underline focus-visible:outline-2 focus-visible:outline-brand-500"
                              href={href}
                            >
                              {e.object_id}
                            </a>
                          ) : (
                            <code className="text-xs">{e.object_id}</code>
                          )}
                        </td>
                        <td className="px-4 py-2 font-mono text-xs text-slate-600">
                          {e.client_address ?? "—"}
                        </td>
                        <td
                          className="max-w-md px-4 py-2 text-slate-700"
                          data-testid="audit-summary"
                        >
                          {summaryText(e) || <span className="text-slate-400">—</span>}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          {data.count > AUDIT_PAGE_SIZE && (
            <nav
              aria-label="Pagination"
              className="flex items-center justify-between border-t border-slate-100 px-4 py-2 text-sm"
            >
              <span className="text-slate-600">
                {offset + 1}–{Math.min(offset + AUDIT_PAGE_SIZE, data.count)} of {data.count}
              </span>
              <span className="flex gap-2">
                <Button
                  disabled={offset === 0}
                  onClick={() => setOffset(Math.max(0, offset - AUDIT_PAGE_SIZE))}
                >
                  Previous
                </Button>
                <Button
                  disabled={offset + AUDIT_PAGE_SIZE >= data.count}
                  onClick={() => setOffset(offset + AUDIT_PAGE_SIZE)}
                >
                  Next
                </Button>
              </span>
            </nav>
          )}
        </section>
      )}
    </div>
  );
}
