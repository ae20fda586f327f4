// Numbers as people read them: durations in s/min/h, costs in dollars (4 decimals
// when under a dollar), percentages with one decimal. null (no data) is an em dash.

export const NONE = "—";

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return NONE;
  const s = Math.max(seconds, 0);
  if (s === 0) return "0 s";
  if (s < 1) return `${Math.max(Math.round(s * 1000), 1)} ms`;
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min ${whole % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function formatCost(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  if (value === 0) return "$0.00";
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  if (abs < 0.0001) return `${sign}<$0.0001`;
  if (abs < 1) return `${sign}$${abs.toFixed(4)}`;
  return `${sign}$${abs.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** For chart axes: a cost without the trailing zeros ($0.80, $0.0012, $12.50). */
export function formatCostCompact(value: number | null | undefined): string {
  const text = formatCost(value);
  if (value === null || value === undefined || Math.abs(value) >= 1) return text;
  return text.replace(/(\.\d\d\d*?)0+$/, "$1");
}

export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  return `${value.toFixed(1)}%`;
}

/** An amount in its own unit ("h" for CPU and GPU hours, "GB·h" for RAM GB-hours),
 * never converted: small amounts keep two significant digits instead of turning into
 * seconds or milliseconds, which a GB-hour is not. */
export function formatAmount(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  if (value === 0) return `0 ${unit}`;
  if (Math.abs(value) < 0.000001) return `<0.000001 ${unit}`;
  if (Math.abs(value) >= 0.01) return `${value.toFixed(2)} ${unit}`;
  return `${Number(value.toPrecision(2)).toFixed(-Math.floor(Math.log10(Math.abs(value))) + 1)} ${unit}`;
}

/** CPU or GPU hours. */
export function formatHours(value: number | null | undefined): string {
  return formatAmount(value, "h");
}

/** RAM GB-hours. */
export function formatGbHours(value: number | null | undefined): string {
  return formatAmount(value, "GB·h");
}

export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined) return NONE;
  return value.toLocaleString("en-US");
}
