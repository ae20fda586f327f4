// Audit entries as text: a one-line summary of what changed, and the link to the object.
import type { AuditEntry } from "./types";

function names(map: unknown): string {
  if (!map || typeof map !== "object") return "";
  return Object.entries(map as Record<string, unknown>)
    .map(([action, who]) => `${action}: ${Array.isArray(who) ? who.join(", ") : String(who)}`)
    .join("; ");
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return "none";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** "granted read: bob; revoked execute: team:x", or "key: value, …" for other actions. */
export function summaryText(entry: Pick<AuditEntry, "action" | "summary">): string {
  const s = entry.summary ?? {};
  if (entry.action === "shared" && ("granted" in s || "revoked" in s)) {
    const parts: string[] = [];
    const granted = names(s.granted);
    const revoked = names(s.revoked);
    if (granted) parts.push(`granted ${granted}`);
    if (revoked) parts.push(`revoked ${revoked}`);
    return parts.join(" · ") || "no change";
  }
  return Object.entries(s)
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${scalar(v)}`)
    .join(", ");
}

export function objectHref(
  entry: Pick<AuditEntry, "object_type" | "object_id" | "workflow_id" | "action">,
): string | null {
  if (entry.object_type === "execution" && entry.workflow_id)
    return `/workflows/${encodeURIComponent(entry.workflow_id)}/runs/${encodeURIComponent(entry.object_id)}/`;
  if (entry.object_type === "workflow" && entry.action !== "deleted")
    return `/workflows/${encodeURIComponent(entry.object_id)}/`;
  return null;
}
