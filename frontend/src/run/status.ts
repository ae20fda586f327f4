// Status colours and labels (COMMON.md: queued=slate, running=blue, retrying=amber,
// completed=emerald, failed=red, skipped=zinc dashed, cancelled=stone; waiting — a
// composite whose steps run — sky, dashed, with a clock). Full class strings, so
// Tailwind finds them.

export interface StatusStyle {
  label: string;
  /** A shorter label where space is tight (the node badge); else the label. */
  short?: string;
  /** Drawn instead of the dot (see StatusMark). */
  icon?: "clock";
  /** Badge: background + text + ring. */
  badge: string;
  /** Node card border (and dash for skipped). */
  border: string;
  /** Dot / bar colour. */
  dot: string;
  /** Hex colour for charts. */
  hex: string;
}

const STYLES: Record<string, StatusStyle> = {
  pending: {
    label: "Pending",
    badge: "bg-slate-50 text-slate-500 ring-slate-200",
    border: "border-slate-200",
    dot: "bg-slate-300",
    hex: "#cbd5e1",
  },
  ready: {
    label: "Ready",
    badge: "bg-slate-50 text-slate-600 ring-slate-200",
    border: "border-slate-300",
    dot: "bg-slate-400",
    hex: "#94a3b8",
  },
  queued: {
    label: "Queued",
    badge: "bg-slate-100 text-slate-700 ring-slate-300",
    border: "border-slate-400",
    dot: "bg-slate-500",
    hex: "#64748b",
  },
  running: {
    label: "Running",
    badge: "bg-blue-50 text-blue-700 ring-blue-200",
    border: "border-blue-500",
    dot: "bg-blue-500 animate-pulse",
    hex: "#3b82f6",
  },
  waiting: {
    label: "Waiting for its steps",
    short: "Waiting",
    icon: "clock",
    badge: "bg-sky-50 text-sky-700 ring-sky-200",
    border: "border-sky-500 border-dashed",
    dot: "bg-sky-500",
    hex: "#0ea5e9",
  },
  retrying: {
    label: "Retrying",
    badge: "bg-amber-50 text-amber-800 ring-amber-200",
    border: "border-amber-500",
    dot: "bg-amber-500 animate-pulse",
    hex: "#f59e0b",
  },
  completed: {
    label: "Completed",
    badge: "bg-emerald-50 text-emerald-700 ring-emerald-200",
    border: "border-emerald-500",
    dot: "bg-emerald-500",
    hex: "#10b981",
  },
  failed: {
    label: "Failed",
    badge: "bg-red-50 text-red-700 ring-red-200",
    border: "border-red-500",
    dot: "bg-red-500",
    hex: "#ef4444",
  },
  skipped: {
    label: "Skipped",
    badge: "bg-zinc-50 text-zinc-500 ring-zinc-200",
    border: "border-zinc-300 border-dashed",
    dot: "bg-zinc-300",
    hex: "#d4d4d8",
  },
  cancelled: {
    label: "Cancelled",
    badge: "bg-stone-100 text-stone-600 ring-stone-300",
    border: "border-stone-400",
    dot: "bg-stone-400",
    hex: "#a8a29e",
  },
  timed_out: {
    label: "Timed out",
    badge: "bg-red-50 text-red-700 ring-red-200",
    border: "border-red-500",
    dot: "bg-red-500",
    hex: "#ef4444",
  },
};

export function statusStyle(status: string | null | undefined): StatusStyle {
  return STYLES[status ?? "pending"] ?? STYLES.pending;
}

export function formatCost(value: number): string {
  if (!value) return "$0.00";
  if (value < 0.01) return `$${value.toFixed(4)}`;
  return `$${value.toFixed(2)}`;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h
    ? `${h}h ${String(m).padStart(2, "0")}m ${String(rest).padStart(2, "0")}s`
    : `${m}m ${String(rest).padStart(2, "0")}s`;
}

export function secondsBetween(start: string | null, end: string | null | number): number | null {
  if (!start) return null;
  const a = Date.parse(start);
  const b = typeof end === "number" ? end : end ? Date.parse(end) : NaN;
  if (Number.isNaN(a) || Number.isNaN(b)) return null;
  return Math.max(0, (b - a) / 1000);
}
