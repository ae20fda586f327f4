// One chart card: a heading, the ECharts canvas (role="img" with a label that says
// what it shows), a "Download CSV" button for the numbers behind it, and the same
// numbers as a table under a disclosure for keyboard and screen-reader users.
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { useEffect, useId, useRef, type ReactNode } from "react";
import { Button } from "../pages/common/ui";
import type { ChartOption } from "./charts";
import { downloadCsv, type Table } from "./csv";

echarts.use([
  BarChart,
  LineChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  CanvasRenderer,
]);

export function CsvButton({
  table,
  filename,
  label,
}: {
  table: Table;
  filename: string;
  label: string;
}) {
  return (
    <Button
      className="shrink-0 whitespace-nowrap px-2 py-1 text-xs"
      onClick={() => downloadCsv(filename, table)}
      disabled={!table.rows.length}
      aria-label={`Download CSV: ${label}`}
      data-filename={filename}
    >
      <svg aria-hidden="true" viewBox="0 0 20 20" className="h-3.5 w-3.5" fill="currentColor">
        <path d="M10 3a1 1 0 0 1 1 1v7.59l2.3-2.3a1 1 0 1 1 1.4 1.42l-4 4a1 1 0 0 1-1.4 0l-4-4a1 1 0 1 1 1.4-1.42L9 11.6V4a1 1 0 0 1 1-1ZM4 15a1 1 0 0 1 1 1v1h10v-1a1 1 0 1 1 2 0v2a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1v-2a1 1 0 0 1 1-1Z" />
      </svg>
      Download CSV
    </Button>
  );
}

function EChart({
  option,
  label,
  height,
  testId,
}: {
  option: ChartOption;
  label: string;
  height: number;
  testId?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const instance = echarts.init(el, undefined, { renderer: "canvas" });
    chart.current = instance;
    const resize = new ResizeObserver(() => instance.resize());
    resize.observe(el);
    return () => {
      resize.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);

  return (
    <div
      ref={ref}
      style={{ height }}
      className="w-full"
      role="img"
      aria-label={label}
      data-testid={testId}
    />
  );
}

/** What a person reads above a column; the CSV keeps the machine-friendly label. */
const HEADINGS: Record<string, string> = {
  date: "Day (UTC)",
  runs: "Runs",
  executions: "Runs",
  avg_duration_seconds: "Avg duration",
  success_rate: "Success rate",
  total_cost: "Total cost",
  cost_per_run: "Cost per run",
  step_id: "Step",
  skipped: "Skipped",
  failure_rate: "Failure rate",
  retry_rate: "Retry rate",
  avg_cost: "Avg cost",
  key: "Group",
  group: "Group",
  name: "Name",
  cpu_hours: "CPU hours",
  ram_gb_hours: "RAM GB-hours",
  gpu_hours: "GPU hours",
};

export function DataTable({
  table,
  format,
}: {
  table: Table;
  format?: Record<string, (v: unknown) => string>;
}) {
  return (
    <table className="min-w-full text-left text-xs">
      <thead className="text-slate-500">
        <tr>
          {table.columns.map((c) => (
            <th key={c.key} scope="col" className="px-2 py-1 font-medium">
              {HEADINGS[c.key] ?? c.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100 text-slate-700">
        {table.rows.map((row, i) => (
          <tr key={i}>
            {table.columns.map((c) => (
              <td key={c.key} className="px-2 py-1 tabular-nums">
                {format?.[c.key]
                  ? format[c.key](row[c.key])
                  : row[c.key] === null || row[c.key] === undefined
                    ? "—"
                    : String(row[c.key])}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ChartCard({
  title,
  description,
  option,
  table,
  filename,
  height = 240,
  empty,
  testId,
  format,
}: {
  title: string;
  description: string;
  option: ChartOption;
  table: Table;
  filename: string;
  height?: number;
  /** Shown instead of the chart when the table has no rows. */
  empty: ReactNode;
  testId?: string;
  format?: Record<string, (v: unknown) => string>;
}) {
  const id = useId();
  return (
    <section
      aria-labelledby={`${id}-title`}
      className="flex min-w-0 flex-col rounded-lg border border-slate-200 bg-white shadow-sm"
      data-testid={testId}
    >
      <header className="flex items-center justify-between gap-3 border-b border-slate-100 px-4 py-2.5">
        <div className="min-w-0">
          <h2 id={`${id}-title`} className="text-sm font-semibold text-slate-900">
            {title}
          </h2>
          <p className="truncate text-xs text-slate-500" title={description}>
            {description}
          </p>
        </div>
        <CsvButton table={table} filename={filename} label={title} />
      </header>
      <div className="flex-1 px-3 py-2">
        {table.rows.length ? (
          <EChart
            option={option}
            label={`${title}: ${description}`}
            height={height}
            testId={testId ? `${testId}-chart` : undefined}
          />
        ) : (
          <p className="flex items-center justify-center text-sm text-slate-500" style={{ height }}>
            {empty}
          </p>
        )}
      </div>
      {table.rows.length > 0 && (
        <details className="border-t border-slate-100 px-4 py-2 text-xs">
          <summary className="cursor-pointer rounded text-slate-600 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-brand-500">
            Show the numbers
          </summary>
          <div className="mt-2 max-h-64 overflow-auto">
            <DataTable table={table} format={format} />
          </div>
        </details>
      )}
    </section>
  );
}

export function Segmented<T extends string>({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: T;
  options: { value: T; label: string }[];
  onChange: (value: T) => void;
}) {
  return (
    <div
      role="group"
      aria-label={label}
      className="inline-flex rounded-md border border-slate-300 bg-white p-0.5 shadow-sm"
    >
      {options.map((o) => (
        <button
          key={o.value}
          type="button"
          aria-pressed={o.value === value}
          onClick={() => onChange(o.value)}
          className={
            "rounded px-2.5 py-1 text-sm font-medium focus-visible:outline-2 focus-visible:outline-brand-500 " +
            (o.value === value
              ? "bg-brand-600 text-white"
              : "text-slate-600 hover:bg-slate-100 hover:text-slate-900")
          }
        >
          {o.label}
        </button>
      ))}
    </div>
  );
}
