// Data → table → chart option, as pure functions: each chart is drawn from a Table
// (the same rows its "Download CSV" button exports), so what is shown and what is
// downloaded cannot drift apart. No ECharts runtime here, only its option types.
import type { BarSeriesOption, LineSeriesOption } from "echarts/charts";
import type {
  GridComponentOption,
  LegendComponentOption,
  TooltipComponentOption,
} from "echarts/components";
import type { ComposeOption } from "echarts/core";
import type { Table } from "./csv";
import {
  formatCost,
  formatCostCompact,
  formatDuration,
  formatGbHours,
  formatHours,
  formatPercent,
} from "./format";
import type { Analytics, DailyBucket, StepStat, Usage, UsageGroup } from "./types";

export type ChartOption = ComposeOption<
  | BarSeriesOption
  | LineSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | LegendComponentOption
>;

const BRAND = "#2f6fed";
const SLATE = "#64748b";
const AXIS = {
  axisLabel: { color: SLATE, fontSize: 11 },
  axisLine: { lineStyle: { color: "#e2e8f0" } },
};
const SPLIT = { splitLine: { lineStyle: { color: "#f1f5f9" } } };
export const COLORS = {
  duration: BRAND,
  success: "#10b981",
  cost: "#0ea5e9",
  failure: "#ef4444",
  retry: "#f59e0b",
  cpu: "#6366f1",
  ram: "#14b8a6",
  gpu: "#f97316",
};

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

// --- tables -----------------------------------------------------------------------------

const DAY_MS = 86_400_000;

/** Every UTC day the window touches (YYYY-MM-DD), oldest first; [] if it is unknown. */
export function windowDays(
  start: string | undefined,
  end: string | undefined,
  limit = 400,
): string[] {
  const from = start ? Date.parse(start) : Number.NaN;
  const to = end ? Date.parse(end) : Number.NaN;
  if (Number.isNaN(from) || Number.isNaN(to) || to <= from) return [];
  const days: string[] = [];
  for (let t = Math.floor(from / DAY_MS) * DAY_MS; t < to && days.length < limit; t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** One row per day of the window (days without runs: 0 runs, no measures), so the
 * trends show gaps where nothing ran. */
export function trendTable(data: Analytics): Table {
  return {
    columns: [
      { key: "date", label: "date" },
      { key: "runs", label: "runs" },
      { key: "avg_duration_seconds", label: "avg_duration_seconds" },
      { key: "success_rate", label: "success_rate_percent" },
      { key: "total_cost", label: "total_cost" },
      { key: "cost_per_run", label: "cost_per_run" },
    ],
    rows: fillDays(data).map((d) => ({
      date: d.date,
      runs: d.runs,
      avg_duration_seconds: d.avg_duration_seconds,
      success_rate: d.success_rate,
      total_cost: d.total_cost,
      cost_per_run:
        d.runs && num(d.total_cost) !== null ? round((d.total_cost as number) / d.runs, 6) : null,
    })),
  };
}

function fillDays(data: Analytics): DailyBucket[] {
  if (!data.daily) return [];
  const byDate = new Map(data.daily.map((d) => [d.date, d]));
  const days = windowDays(data.start, data.end);
  const all = [...new Set([...days, ...byDate.keys()])].sort();
  return all.map(
    (date) =>
      byDate.get(date) ?? {
        date,
        runs: 0,
        success_rate: null,
        avg_duration_seconds: null,
        total_cost: null,
      },
  );
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Only the columns one trend chart plots (date, runs and its measure). */
export function pick(table: Table, keys: string[]): Table {
  return {
    columns: table.columns.filter((c) => keys.includes(c.key)),
    rows: table.rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]]))),
  };
}

export const SLOWEST_LIMIT = 10;

export function slowestStepsTable(steps: StepStat[], limit = SLOWEST_LIMIT): Table {
  const rows = steps
    .filter((s) => num(s.avg_duration_seconds) !== null)
    .sort(
      (a, b) =>
        (b.avg_duration_seconds as number) - (a.avg_duration_seconds as number) ||
        a.step_id.localeCompare(b.step_id),
    )
    .slice(0, limit)
    .map((s) => ({
      step_id: s.step_id,
      runs: s.runs,
      avg_duration_seconds: s.avg_duration_seconds,
      avg_cost: s.avg_cost,
    }));
  return {
    columns: [
      { key: "step_id", label: "step_id" },
      { key: "runs", label: "runs" },
      { key: "avg_duration_seconds", label: "avg_duration_seconds" },
      { key: "avg_cost", label: "avg_cost" },
    ],
    rows,
  };
}

/** Steps that failed or needed another attempt, worst first. */
export function flakiestStepsTable(steps: StepStat[], limit = SLOWEST_LIMIT): Table {
  const score = (s: StepStat) => (num(s.failure_rate) ?? 0) + (num(s.retry_rate) ?? 0);
  const rows = steps
    .filter((s) => score(s) > 0)
    .sort(
      (a, b) =>
        (num(b.failure_rate) ?? 0) - (num(a.failure_rate) ?? 0) ||
        (num(b.retry_rate) ?? 0) - (num(a.retry_rate) ?? 0) ||
        a.step_id.localeCompare(b.step_id),
    )
    .slice(0, limit)
    .map((s) => ({
      step_id: s.step_id,
      runs: s.runs,
      failure_rate: s.failure_rate,
      retry_rate: s.retry_rate,
    }));
  return {
    columns: [
      { key: "step_id", label: "step_id" },
      { key: "runs", label: "runs" },
      { key: "failure_rate", label: "failure_rate_percent" },
      { key: "retry_rate", label: "retry_rate_percent" },
    ],
    rows,
  };
}

export function stepsTable(steps: StepStat[]): Table {
  return {
    columns: [
      { key: "step_id", label: "step_id" },
      { key: "runs", label: "runs" },
      { key: "skipped", label: "skipped" },
      { key: "avg_duration_seconds", label: "avg_duration_seconds" },
      { key: "failure_rate", label: "failure_rate_percent" },
      { key: "retry_rate", label: "retry_rate_percent" },
      { key: "avg_cost", label: "avg_cost" },
      { key: "total_cost", label: "total_cost" },
    ],
    rows: steps.map((s) => ({ ...s })),
  };
}

export function groupLabel(g: Pick<UsageGroup, "key" | "name">): string {
  return g.name ? `${g.name} (${g.key})` : g.key;
}

export function usageTable(usage: Usage): Table {
  const byWorkflow = usage.group_by === "workflow_id";
  return {
    columns: [
      { key: "key", label: usage.group_by },
      ...(byWorkflow ? [{ key: "name", label: "name" }] : []),
      { key: "executions", label: "executions" },
      { key: "cpu_hours", label: "cpu_hours" },
      { key: "ram_gb_hours", label: "ram_gb_hours" },
      { key: "gpu_hours", label: "gpu_hours" },
      { key: "total_cost", label: "total_cost" },
    ],
    rows: usage.groups.map((g) => ({ ...g })),
  };
}

export interface DayUsage {
  date: string;
  usage: Usage | undefined;
}

/** Long format: one row per (day, group) with any activity. */
export function usageOverTimeTable(days: DayUsage[], groupBy: string): Table {
  const rows: Record<string, unknown>[] = [];
  for (const { date, usage } of days) {
    for (const g of usage?.groups ?? []) {
      rows.push({
        date,
        group: g.key,
        executions: g.executions,
        cpu_hours: g.cpu_hours,
        ram_gb_hours: g.ram_gb_hours,
        gpu_hours: g.gpu_hours,
        total_cost: g.total_cost,
      });
    }
  }
  return {
    columns: [
      { key: "date", label: "date" },
      { key: "group", label: groupBy },
      { key: "executions", label: "executions" },
      { key: "cpu_hours", label: "cpu_hours" },
      { key: "ram_gb_hours", label: "ram_gb_hours" },
      { key: "gpu_hours", label: "gpu_hours" },
      { key: "total_cost", label: "total_cost" },
    ],
    rows,
  };
}

// --- options ------------------------------------------------------------------------------

function base(): ChartOption {
  return {
    animation: false,
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", confine: true },
  };
}

type Fmt = (v: number | null) => string;

/** Axis ticks: costs without trailing zeros, the rest as the tooltips show them. */
function tickFormat(format: Fmt): Fmt {
  return format === formatCost ? formatCostCompact : format;
}

/** Ticks for an axis that CPU hours, RAM GB-hours and GPU hours share: plain numbers
 * (the units differ, so none is written on a tick; the legend and tooltips carry them),
 * with as many decimals as the largest value needs, so evenly spaced ticks differ. */
export function amountTicks(max: number): Fmt {
  const decimals = max > 0 && max < 1 ? Math.min(-Math.floor(Math.log10(max)) + 1, 8) : 2;
  return (v) => {
    const text = (v ?? 0).toFixed(decimals);
    return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
  };
}

function valueAxis(format: Fmt, extra: Record<string, unknown> = {}, ticks?: Fmt) {
  const tick = ticks ?? tickFormat(format);
  return {
    type: "value" as const,
    ...AXIS,
    ...SPLIT,
    axisLabel: { ...AXIS.axisLabel, formatter: (v: number) => tick(v) },
    ...extra,
  };
}

function tooltipFormat(format: Fmt) {
  return (v: unknown) => format(num(Array.isArray(v) ? v[v.length - 1] : v));
}

/** A line over the days: one series from one column of the trend table. */
export function lineOption(
  table: Table,
  key: string,
  name: string,
  color: string,
  format: Fmt,
  max?: number,
): ChartOption {
  return {
    ...base(),
    xAxis: { type: "category", data: table.rows.map((r) => String(r.date)), ...AXIS },
    yAxis: valueAxis(format, max === undefined ? {} : { min: 0, max }),
    series: [
      {
        type: "line",
        name,
        data: table.rows.map((r) => num(r[key])),
        connectNulls: false,
        showSymbol: true,
        symbolSize: 6,
        itemStyle: { color },
        lineStyle: { color, width: 2 },
        tooltip: { valueFormatter: tooltipFormat(format) },
      },
    ],
  };
}

export function durationTrendOption(table: Table): ChartOption {
  return lineOption(
    table,
    "avg_duration_seconds",
    "Average duration",
    COLORS.duration,
    formatDuration,
  );
}

export function successTrendOption(table: Table): ChartOption {
  return lineOption(table, "success_rate", "Success rate", COLORS.success, formatPercent, 100);
}

export function costPerRunOption(table: Table): ChartOption {
  return {
    ...base(),
    xAxis: { type: "category", data: table.rows.map((r) => String(r.date)), ...AXIS },
    yAxis: valueAxis(formatCost),
    series: [
      {
        type: "bar",
        name: "Cost per run",
        data: table.rows.map((r) => num(r.cost_per_run)),
        itemStyle: { color: COLORS.cost, borderRadius: [3, 3, 0, 0] },
        barMaxWidth: 32,
        tooltip: { valueFormatter: tooltipFormat(formatCost) },
      },
    ],
  };
}

/** Horizontal bars, one category per row (first row at the top). */
function horizontalBars(
  labels: string[],
  series: { name: string; data: (number | null)[]; color: string; stack?: string; format?: Fmt }[],
  format: Fmt,
  legend: boolean,
  ticks?: Fmt,
): ChartOption {
  return {
    ...base(),
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
    ...(legend ? { legend: { top: 0, textStyle: { color: SLATE, fontSize: 11 } } } : {}),
    xAxis: valueAxis(format, {}, ticks),
    yAxis: {
      type: "category",
      inverse: true,
      data: labels,
      ...AXIS,
      axisTick: { show: false },
      axisLabel: { ...AXIS.axisLabel, color: "#334155", width: 160, overflow: "truncate" },
    },
    series: series.map((s) => ({
      type: "bar" as const,
      name: s.name,
      data: s.data,
      ...(s.stack ? { stack: s.stack } : {}),
      barMaxWidth: 18,
      itemStyle: { color: s.color },
      tooltip: { valueFormatter: tooltipFormat(s.format ?? format) },
    })),
  };
}

export function slowestStepsOption(table: Table): ChartOption {
  return horizontalBars(
    table.rows.map((r) => String(r.step_id)),
    [
      {
        name: "Average duration",
        data: table.rows.map((r) => num(r.avg_duration_seconds)),
        color: COLORS.duration,
      },
    ],
    formatDuration,
    false,
  );
}

export function flakiestStepsOption(table: Table): ChartOption {
  return horizontalBars(
    table.rows.map((r) => String(r.step_id)),
    [
      {
        name: "Failure rate",
        data: table.rows.map((r) => num(r.failure_rate)),
        color: COLORS.failure,
      },
      { name: "Retry rate", data: table.rows.map((r) => num(r.retry_rate)), color: COLORS.retry },
    ],
    formatPercent,
    true,
  );
}

function usageLabels(table: Table): string[] {
  return table.rows.map((r) =>
    groupLabel({ key: String(r.key), name: typeof r.name === "string" ? r.name : undefined }),
  );
}

export function usageCostOption(table: Table): ChartOption {
  return horizontalBars(
    usageLabels(table),
    [{ name: "Cost", data: table.rows.map((r) => num(r.total_cost)), color: COLORS.cost }],
    formatCost,
    false,
  );
}

/** CPU hours, RAM GB-hours and GPU hours side by side (not stacked: they are different
 * units), each tooltip in its own unit. */
export function usageHoursOption(table: Table): ChartOption {
  const max = Math.max(
    0,
    ...table.rows.flatMap((r) => [
      num(r.cpu_hours) ?? 0,
      num(r.ram_gb_hours) ?? 0,
      num(r.gpu_hours) ?? 0,
    ]),
  );
  return horizontalBars(
    usageLabels(table),
    [
      {
        name: "CPU hours",
        data: table.rows.map((r) => num(r.cpu_hours)),
        color: COLORS.cpu,
        format: formatHours,
      },
      {
        name: "RAM GB-hours",
        data: table.rows.map((r) => num(r.ram_gb_hours)),
        color: COLORS.ram,
        format: formatGbHours,
      },
      {
        name: "GPU hours",
        data: table.rows.map((r) => num(r.gpu_hours)),
        color: COLORS.gpu,
        format: formatHours,
      },
    ],
    formatHours,
    true,
    amountTicks(max),
  );
}

const PALETTE = [
  "#4f46e5",
  "#0ea5e9",
  "#10b981",
  "#f59e0b",
  "#ef4444",
  "#8b5cf6",
  "#14b8a6",
  "#f97316",
];
export const OVER_TIME_GROUPS = 7;

/** Cost per day, stacked by group: the costliest groups by name, the rest as "other". */
export function usageOverTimeOption(table: Table): ChartOption {
  const dates = [...new Set(table.rows.map((r) => String(r.date)))];
  const totals = new Map<string, number>();
  for (const r of table.rows)
    totals.set(String(r.group), (totals.get(String(r.group)) ?? 0) + (num(r.total_cost) ?? 0));
  const ranked = [...totals.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k]) => k);
  const shown = ranked.slice(0, OVER_TIME_GROUPS);
  const names = ranked.length > shown.length ? [...shown, "other"] : shown;
  const cell = new Map<string, number>();
  for (const r of table.rows) {
    const g = shown.includes(String(r.group)) ? String(r.group) : "other";
    const k = `${r.date}\u0000${g}`;
    cell.set(k, (cell.get(k) ?? 0) + (num(r.total_cost) ?? 0));
  }
  return {
    ...base(),
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    legend: { top: 0, type: "scroll", textStyle: { color: SLATE, fontSize: 11 } },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
    xAxis: { type: "category", data: dates, ...AXIS },
    yAxis: valueAxis(formatCost),
    series: names.map((name, i) => ({
      type: "bar" as const,
      name,
      stack: "cost",
      data: dates.map((d) => round(cell.get(`${d}\u0000${name}`) ?? 0, 6)),
      itemStyle: { color: name === "other" ? "#94a3b8" : PALETTE[i % PALETTE.length] },
      barMaxWidth: 28,
      tooltip: { valueFormatter: tooltipFormat(formatCost) },
    })),
  };
}
