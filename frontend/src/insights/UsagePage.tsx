// /usage/ (#usage-root {}): CPU, RAM, GPU hours and cost per workflow, user, team or
// model over a timeframe, and cost per day; every chart and the table export as CSV.
import { useMemo, useState } from "react";
import { EmptyState, ErrorBanner, Loading } from "../pages/common/ui";
import { lastDays, useUsage, useUsageByDay } from "./api";
import { ChartCard, CsvButton, Segmented } from "./Chart";
import {
  usageCostOption,
  usageHoursOption,
  usageOverTimeOption,
  usageOverTimeTable,
  usageTable,
} from "./charts";
import { csvFilename } from "./csv";
import { formatCost, formatCount, formatGbHours, formatHours } from "./format";
import { GROUPS, TIMEFRAMES, type GroupBy, type Timeframe, type Usage } from "./types";

const fmt = {
  cost: (v: unknown) => formatCost(typeof v === "number" ? v : null),
  hours: (v: unknown) => formatHours(typeof v === "number" ? v : null),
  gbHours: (v: unknown) => formatGbHours(typeof v === "number" ? v : null),
};

function groupHeading(groupBy: GroupBy): string {
  return GROUPS.find((g) => g.value === groupBy)?.label ?? groupBy;
}

function UsageTable({ usage }: { usage: Usage }) {
  const table = useMemo(() => usageTable(usage), [usage]);
  const total = usage.groups.reduce(
    (acc, g) => ({
      executions: acc.executions + g.executions,
      cpu: acc.cpu + g.cpu_hours,
      ram: acc.ram + g.ram_gb_hours,
      gpu: acc.gpu + g.gpu_hours,
      cost: acc.cost + g.total_cost,
    }),
    { executions: 0, cpu: 0, ram: 0, gpu: 0, cost: 0 },
  );
  const byWorkflow = usage.group_by === "workflow_id";
  return (
    <section
      aria-labelledby="usage-table-title"
      className="rounded-lg border border-slate-200 bg-white shadow-sm"
    >
      <header className="flex items-center justify-between gap-3 border-b border-slate-100 px-4 py-2.5">
        <h2 id="usage-table-title" className="text-sm font-semibold text-slate-900">
          Usage by {groupHeading(usage.group_by).toLowerCase()}
        </h2>
        <CsvButton
          table={table}
          filename={csvFilename("usage", usage.group_by, usage.timeframe ?? "custom")}
          label="Usage table"
        />
      </header>
      <div className="overflow-x-auto">
        <table className="min-w-full text-left text-sm" data-testid="usage-table">
          <thead className="bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
            <tr>
              <th scope="col" className="px-4 py-2 font-medium">
                {groupHeading(usage.group_by)}
              </th>
              <th scope="col" className="px-4 py-2 text-right font-medium">
                Runs
              </th>
              <th scope="col" className="px-4 py-2 text-right font-medium">
                CPU hours
              </th>
              <th scope="col" className="px-4 py-2 text-right font-medium">
                RAM GB-hours
              </th>
              <th scope="col" className="px-4 py-2 text-right font-medium">
                GPU hours
              </th>
              <th scope="col" className="px-4 py-2 text-right font-medium">
                Cost
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {usage.groups.map((g) => (
              <tr key={g.key} data-testid="usage-row" data-key={g.key}>
                <th scope="row" className="px-4 py-2 font-medium text-slate-900">
                  {byWorkflow ? (
                    <a
                      className="text-brand-700 hover:underline focus-visible:outline-2 focus-visible:outline-brand-500"
                      href={`/workflows/${encodeURIComponent(g.key)}/analytics/`}
                    >
                      {g.name || g.key}
                    </a>
                  ) : (
                    g.key
                  )}
                  {byWorkflow && g.name && (
                    <code className="ml-2 text-xs font-normal text-slate-500">{g.key}</code>
                  )}
                </th>
                <td className="px-4 py-2 text-right tabular-nums">{formatCount(g.executions)}</td>
                <td className="px-4 py-2 text-right tabular-nums">{formatHours(g.cpu_hours)}</td>
                <td className="px-4 py-2 text-right tabular-nums">
                  {formatGbHours(g.ram_gb_hours)}
                </td>
                <td className="px-4 py-2 text-right tabular-nums">{formatHours(g.gpu_hours)}</td>
                <td className="px-4 py-2 text-right tabular-nums" data-value={g.total_cost}>
                  {formatCost(g.total_cost)}
                </td>
              </tr>
            ))}
          </tbody>
          {usage.group_by !== "team" && usage.groups.length > 1 && (
            <tfoot className="border-t border-slate-200 bg-slate-50 font-medium">
              <tr>
                <th scope="row" className="px-4 py-2">
                  Total
                </th>
                <td className="px-4 py-2 text-right tabular-nums">
                  {formatCount(total.executions)}
                </td>
                <td className="px-4 py-2 text-right tabular-nums">{formatHours(total.cpu)}</td>
                <td className="px-4 py-2 text-right tabular-nums">{formatGbHours(total.ram)}</td>
                <td className="px-4 py-2 text-right tabular-nums">{formatHours(total.gpu)}</td>
                <td className="px-4 py-2 text-right tabular-nums">{formatCost(total.cost)}</td>
              </tr>
            </tfoot>
          )}
        </table>
      </div>
      {usage.group_by === "team" && (
        <p className="border-t border-slate-100 px-4 py-2 text-xs text-slate-500">
          A run counts in full for every team of the person who started it, so team rows can add up
          to more than the total.
        </p>
      )}
    </section>
  );
}

function OverTime({ groupBy, timeframe }: { groupBy: GroupBy; timeframe: Timeframe }) {
  const span = TIMEFRAMES.find((t) => t.value === timeframe)?.days ?? 7;
  const days = useMemo(() => lastDays(span), [span]);
  const results = useUsageByDay(groupBy, days, span > 1);
  const done = results.every((r) => r.isSuccess);
  const failed = results.find((r) => r.isError);
  // results is a new array every render: rebuild the table only when some day's data changed
  const version = results.map((r) => r.dataUpdatedAt).join(",");
  const table = useMemo(
    () =>
      usageOverTimeTable(
        days.map((date, i) => ({ date, usage: results[i]?.data })),
        groupBy,
      ),
    [days, groupBy, version],
  );
  const option = useMemo(() => usageOverTimeOption(table), [table]);
  if (span <= 1) return null;
  if (failed) return <ErrorBanner error={failed.error} />;
  if (!done) return <Loading label="Loading usage per day…" />;
  return (
    <ChartCard
      testId="chart-usage-over-time"
      title="Cost over time"
      description={`Cost per UTC day by ${groupHeading(groupBy).toLowerCase()}`}
      option={option}
      table={table}
      filename={csvFilename("usage-per-day", groupBy, timeframe)}
      height={260}
      empty="No runs on these days."
      format={{
        total_cost: fmt.cost,
        cpu_hours: fmt.hours,
        ram_gb_hours: fmt.gbHours,
        gpu_hours: fmt.hours,
      }}
    />
  );
}

export function UsagePage() {
  const [groupBy, setGroupBy] = useState<GroupBy>("workflow_id");
  const [timeframe, setTimeframe] = useState<Timeframe>("last_7_days");
  const usage = useUsage(groupBy, timeframe);
  const data = usage.data;
  const table = useMemo(() => (data ? usageTable(data) : null), [data]);
  const options = useMemo(
    () => (table ? { cost: usageCostOption(table), hours: usageHoursOption(table) } : null),
    [table],
  );
  const height = Math.max(160, (data?.groups.length ?? 0) * 30 + 64);
  return (
    <div
      className="space-y-4"
      data-testid="usage"
      data-ready={data && !usage.isPlaceholderData ? "true" : "false"}
    >
      <div className="flex flex-wrap items-center gap-3">
        <Segmented label="Group by" value={groupBy} options={GROUPS} onChange={setGroupBy} />
        <Segmented
          label="Timeframe"
          value={timeframe}
          options={TIMEFRAMES}
          onChange={setTimeframe}
        />
      </div>
      {usage.isError && <ErrorBanner error={usage.error} />}
      {usage.isPending && <Loading label="Loading usage…" />}
      {data &&
        table &&
        options &&
        (data.groups.length === 0 ? (
          <section
            className="rounded-lg border border-slate-200 bg-white shadow-sm"
            data-testid="usage-empty"
          >
            <EmptyState title="No runs in this timeframe">
              Usage appears here once workflows you can read have run.
            </EmptyState>
          </section>
        ) : (
          <>
            <div className="grid gap-4 lg:grid-cols-2">
              <ChartCard
                testId="chart-usage-cost"
                title="Cost"
                description={`Total cost per ${groupHeading(groupBy).toLowerCase()}`}
                option={options.cost}
                table={table}
                filename={csvFilename("usage-cost", groupBy, timeframe)}
                height={height}
                empty="No runs."
                format={{
                  total_cost: fmt.cost,
                  cpu_hours: fmt.hours,
                  ram_gb_hours: fmt.gbHours,
                  gpu_hours: fmt.hours,
                }}
              />
              <ChartCard
                testId="chart-usage-hours"
                title="Compute"
                description="CPU hours, RAM GB-hours and GPU hours, stacked"
                option={options.hours}
                table={table}
                filename={csvFilename("usage-compute", groupBy, timeframe)}
                height={height}
                empty="No runs."
                format={{
                  total_cost: fmt.cost,
                  cpu_hours: fmt.hours,
                  ram_gb_hours: fmt.gbHours,
                  gpu_hours: fmt.hours,
                }}
              />
            </div>
            <UsageTable usage={data} />
          </>
        ))}
      <OverTime groupBy={groupBy} timeframe={timeframe} />
    </div>
  );
}
