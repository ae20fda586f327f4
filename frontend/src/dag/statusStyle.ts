// Run status colours of the canvas cards.

/** Run status colours (COMMON.md): one border + tint per status. */
export const STATUS_STYLE: Record<string, string> = {
  pending: "border-slate-300 bg-white",
  ready: "border-slate-300 bg-white",
  queued: "border-slate-400 bg-slate-50",
  running: "border-blue-500 bg-blue-50 ring-1 ring-blue-400 animate-pulse",
  waiting: "border-dashed border-sky-500 bg-sky-50",
  retrying: "border-amber-500 bg-amber-50",
  completed: "border-emerald-500 bg-emerald-50",
  failed: "border-red-500 bg-red-50",
  skipped: "border-dashed border-zinc-400 bg-zinc-50 text-zinc-500",
  cancelled: "border-stone-400 bg-stone-100",
};
