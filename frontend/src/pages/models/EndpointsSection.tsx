// The Models page's endpoint form: add and edit OpenAI-compatible endpoints
// (/model-endpoints). The API key is write-only: the page shows only whether one is
// set. A team endpoint serves its members; a shared one (staff only) serves everyone.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../lib/api";
import { Button, ErrorBanner, inputClass, labelClass } from "../common/ui";
import { TestCell } from "./TestCell";

export interface ModelEndpoint {
  id: number;
  name: string;
  provider: string;
  base_url: string;
  remote_model: string;
  api_key_set: boolean;
  input_price_per_1k: string;
  output_price_per_1k: string;
  enabled: boolean;
  team: number | null;
  team_name: string | null;
  can_manage: boolean;
  created_at: string;
}

interface Team {
  id: number;
  name: string;
}

export interface Draft {
  name: string;
  base_url: string;
  remote_model: string;
  api_key: string;
  remove_key: boolean;
  input_price_per_1k: string;
  output_price_per_1k: string;
  enabled: boolean;
  team: string; // a team id, or "" for shared
}

function draftOf(e: ModelEndpoint | null, teams: Team[], isStaff: boolean): Draft {
  return {
    name: e?.name ?? "",
    base_url: e?.base_url ?? "",
    remote_model: e?.remote_model ?? "",
    api_key: "",
    remove_key: false,
    input_price_per_1k: e ? String(Number(e.input_price_per_1k)) : "0",
    output_price_per_1k: e ? String(Number(e.output_price_per_1k)) : "0",
    enabled: e?.enabled ?? true,
    team: e
      ? e.team === null
        ? ""
        : String(e.team)
      : teams[0] && !isStaff
        ? String(teams[0].id)
        : "",
  };
}

/** The request body: the key only when typed (or removed), so an edit keeps it. */
export function endpointBody(d: Draft): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: d.name.trim(),
    base_url: d.base_url.trim(),
    remote_model: d.remote_model.trim(),
    input_price_per_1k: d.input_price_per_1k.trim() || "0",
    output_price_per_1k: d.output_price_per_1k.trim() || "0",
    enabled: d.enabled,
    team: d.team === "" ? null : Number(d.team),
  };
  if (d.remove_key) body.api_key = "";
  else if (d.api_key.trim()) body.api_key = d.api_key.trim();
  return body;
}

function EndpointForm({
  endpoint: initial,
  teams,
  isStaff,
  onSaved,
  onClose,
}: {
  endpoint: ModelEndpoint | null;
  teams: Team[];
  isStaff: boolean;
  onSaved: () => void;
  onClose: () => void;
}) {
  // The saved endpoint: the one opened for editing, or the one this form just added.
  const [endpoint, setEndpoint] = useState<ModelEndpoint | null>(initial);
  const [draft, setDraft] = useState<Draft>(() => draftOf(initial, teams, isStaff));
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => {
    setSaved(false);
    setDraft((d) => ({ ...d, [key]: value }));
  };
  const save = async () => {
    setBusy(true);
    setFailed(null);
    try {
      const result = await api<ModelEndpoint>(
        endpoint ? `/model-endpoints/${endpoint.id}` : "/model-endpoints",
        { method: endpoint ? "PATCH" : "POST", body: endpointBody(draft) },
      );
      setSaved(true);
      setEndpoint(result);
      setDraft((d) => ({ ...d, api_key: "", remove_key: false }));
      onSaved();
    } catch (e) {
      setFailed(e);
    } finally {
      setBusy(false);
    }
  };
  const field = (key: "name" | "base_url" | "remote_model", label: string, hint: string) => (
    <label className="block space-y-1">
      <span className={labelClass}>{label}</span>
      <input
        className={inputClass}
        value={draft[key]}
        placeholder={hint}
        onChange={(e) => set(key, e.target.value)}
        aria-label={label}
      />
    </label>
  );
  const keyState = endpoint?.api_key_set ? "set" : "not set";
  return (
    <form
      data-testid="endpoint-form"
      className="space-y-3 border-t border-slate-100 bg-slate-50 px-4 py-4"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h3 className="text-sm font-semibold text-slate-900">
        {endpoint ? `Edit ${endpoint.name}` : "Add an OpenAI-compatible endpoint"}
      </h3>
      <div className="grid gap-3 sm:grid-cols-2">
        {field("name", "Model name", "what steps say, e.g. lab/llama-3-8b")}
        {field("base_url", "Base URL", "http://gpu-box:8000/v1")}
        {field("remote_model", "Remote model", "model id at the server (default: the name)")}
        <label className="block space-y-1">
          <span className={labelClass}>
            API key <span data-testid="api-key-state">({keyState})</span>
          </span>
          <input
            className={inputClass}
            type="password"
            autoComplete="off"
            value={draft.api_key}
            disabled={draft.remove_key}
            placeholder={endpoint?.api_key_set ? "leave empty to keep the stored key" : "sk-…"}
            onChange={(e) => set("api_key", e.target.value)}
            aria-label="API key"
          />
          {endpoint?.api_key_set && (
            <span className="flex items-center gap-1 text-xs text-slate-600">
              <input
                type="checkbox"
                checked={draft.remove_key}
                onChange={(e) => set("remove_key", e.target.checked)}
                aria-label="Remove the stored key"
              />
              Remove the stored key
            </span>
          )}
        </label>
        <label className="block space-y-1">
          <span className={labelClass}>Input price per 1k tokens ($)</span>
          <input
            className={inputClass}
            inputMode="decimal"
            value={draft.input_price_per_1k}
            onChange={(e) => set("input_price_per_1k", e.target.value)}
            aria-label="Input price per 1k tokens"
          />
        </label>
        <label className="block space-y-1">
          <span className={labelClass}>Output price per 1k tokens ($)</span>
          <input
            className={inputClass}
            inputMode="decimal"
            value={draft.output_price_per_1k}
            onChange={(e) => set("output_price_per_1k", e.target.value)}
            aria-label="Output price per 1k tokens"
          />
        </label>
        <label className="block space-y-1">
          <span className={labelClass}>Who may use it</span>
          <select
            className={inputClass}
            value={draft.team}
            onChange={(e) => set("team", e.target.value)}
            aria-label="Who may use it"
          >
            {teams.map((t) => (
              <option key={t.id} value={String(t.id)}>
                Team {t.name} only
              </option>
            ))}
            {(isStaff || draft.team === "") && (
              <option value="" disabled={!isStaff}>
                Shared: every user{isStaff ? "" : " (staff only)"}
              </option>
            )}
          </select>
        </label>
        <label className="flex items-center gap-2 self-end text-sm text-slate-700">
          <input
            type="checkbox"
            checked={draft.enabled}
            onChange={(e) => set("enabled", e.target.checked)}
          />
          Enabled
        </label>
      </div>
      {teams.length === 0 && !isStaff && (
        <p className="text-sm text-amber-800">
          Only staff may add a shared endpoint; join or create a team (Teams page) to add your own.
        </p>
      )}
      <ErrorBanner error={failed} />
      {saved && (
        <p role="status" className="text-sm text-emerald-700" data-testid="endpoint-saved">
          Saved. It is in the catalog below; test the connection.
        </p>
      )}
      <div className="flex flex-wrap items-start gap-2">
        <Button type="submit" variant="primary" disabled={busy}>
          {busy ? "Saving…" : endpoint ? "Save changes" : "Add endpoint"}
        </Button>
        <Button variant="ghost" onClick={onClose}>
          Close
        </Button>
        {endpoint && endpoint.enabled && <TestCell model={endpoint.name} label="Test connection" />}
      </div>
      {!endpoint && (
        <p className="text-xs text-slate-500">
          Save first, then test the connection. A server on a private or loopback address must be
          listed in PRSM_OUTBOUND_ALLOWLIST.
        </p>
      )}
    </form>
  );
}

export function EndpointsSection({ isStaff }: { isStaff: boolean }) {
  const client = useQueryClient();
  const endpoints = useQuery({
    queryKey: ["model-endpoints"],
    queryFn: () => api<ModelEndpoint[]>("/model-endpoints"),
  });
  const teams = useQuery({ queryKey: ["teams"], queryFn: () => api<Team[]>("/teams") });
  // null: no form; "new": the add form; an endpoint: editing it.
  const [open, setOpen] = useState<null | "new" | ModelEndpoint>(null);
  const refresh = async () => {
    await Promise.all([
      client.invalidateQueries({ queryKey: ["model-endpoints"] }),
      client.invalidateQueries({ queryKey: ["catalog-models"] }),
    ]);
  };
  const remove = async (e: ModelEndpoint) => {
    if (!window.confirm(`Delete the endpoint ${e.name}? Steps naming it will fail.`)) return;
    await api(`/model-endpoints/${e.id}`, { method: "DELETE" });
    setOpen(null);
    await refresh();
  };
  const rows = endpoints.data ?? [];
  return (
    <section
      className="overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm"
      data-testid="endpoints"
      aria-labelledby="endpoints-title"
    >
      <header className="flex items-center justify-between gap-3 border-b border-slate-100 px-4 py-3">
        <h2 id="endpoints-title" className="text-sm font-semibold text-slate-900">
          Model endpoints
        </h2>
        <Button variant="primary" onClick={() => setOpen("new")}>
          Add an endpoint
        </Button>
      </header>
      {endpoints.isError && <ErrorBanner error={endpoints.error} />}
      {endpoints.isSuccess && rows.length === 0 && open === null && (
        <p className="px-4 py-3 text-sm text-slate-600">
          No OpenAI-compatible endpoints yet. Add one to use your own server's models in steps.
        </p>
      )}
      {rows.length > 0 && (
        <ul className="divide-y divide-slate-100 text-sm">
          {rows.map((e) => (
            <li
              key={e.id}
              data-testid="endpoint-row"
              data-name={e.name}
              className="flex flex-wrap items-center justify-between gap-2 px-4 py-2"
            >
              <span>
                <code>{e.name}</code>{" "}
                <span className="text-xs text-slate-500">
                  {e.base_url} · key {e.api_key_set ? "set" : "not set"} ·{" "}
                  {e.team_name ? `team ${e.team_name}` : "shared"}
                  {e.enabled ? "" : " · disabled"}
                </span>
              </span>
              {e.can_manage && (
                <span className="flex gap-1">
                  <Button onClick={() => setOpen(e)} aria-label={`Edit ${e.name}`}>
                    Edit
                  </Button>
                  <Button
                    variant="ghost"
                    onClick={() => void remove(e)}
                    aria-label={`Delete ${e.name}`}
                  >
                    Delete
                  </Button>
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      {teams.isError && <ErrorBanner error={teams.error} />}
      {open !== null && teams.data && (
        <EndpointForm
          key={open === "new" ? "new" : open.id}
          endpoint={open === "new" ? null : open}
          teams={teams.data}
          isStaff={isStaff}
          onSaved={() => void refresh()}
          onClose={() => setOpen(null)}
        />
      )}
    </section>
  );
}
