// The workflow's Analytics tab (#analytics-root {workflowId, canModify}): KPIs, trends,
// the slowest and flakiest steps over a timeframe, and the Optimize panel.
import { useMemo, useState } from "react";
import { EmptyState, ErrorBanner, Loading } from "../pages/common/ui";
import { useAnalytics } from "./api";
import { ChartCard, CsvButton, DataTable, Segmented } from "./Chart";
import {
  costPerRunOption,
  durationTrendOption,
  flakiestStepsOption,
  flakiestStepsTable,
  pick,
  slowestStepsOption,
  slowestStepsTable,
  stepsTable,
  successTrendOption,
  trendTable,
} from "./charts";
import { csvFilename } from "./csv";
import { formatCost, formatCount, formatDuration, formatPercent } from "./format";
import { OptimizePanel } from "./OptimizePanel";
import { TIMEFRAMES, type Analytics, type Timeframe } from "./types";

export interface AnalyticsProps {
  workflowId: string;
  canModify: boolean;
}

const fmt = {
  duration: (v: unknown) => formatDuration(typeof v === "number" ? v : null),
  cost: (v: unknown) => formatCost(typeof v === "number" ? v : null),
  percent: (v: unknown) => formatPercent(typeof v === "number" ? v : null),
};

function Kpi({
  label,
  value,
  text,
  hint,
  name,
}: {
  label: string;
  value: number | null;
  text: string;
  hint?: string;
  name: string;
}) {
  return (
    <div
      className="rounded-lg border border-slate-200 bg-white px-4 py-3 shadow-sm"
      data-testid={`kpi-${name}`}
      data-value={value ?? ""}
    >
      <dt className="text-xs font-medium text-slate-500">{label}</dt>
      <dd className="mt-1 text-xl font-semibold tabular-nums text-slate-900">{text}</dd>
      {hint && <dd className="text-xs text-slate-500">{hint}</dd>}
    </div>
  );
}

function Kpis({ data }: { data: Analytics }) {
  const byStatus = Object.entries(data.executions_by_status ?? {}).filter(([, n]) => n > 0);
  return (
    <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4 xl:grid-cols-7" aria-label="Key figures">
      <Kpi
        name="runs"
        label="Runs"
        value={data.total_executions}
        text={formatCount(data.total_executions)}
        hint={byStatus.map(([s, n]) => `${n} ${s}`).join(" · ") || undefined}
      />
      <Kpi
        name="success-rate"
        label="Success rate"
        value={data.success_rate}
        text={formatPercent(data.success_rate)}
        hint="of finished runs"
      />
      <Kpi
        name="avg-duration"
        label="Average duration"
        value={data.avg_duration_seconds}
        text={formatDuration(data.avg_duration_seconds)}
        hint="completed runs"
      />
      <Kpi
        name="p50"
        label="p50 duration"
        value={data.p50_duration_seconds}
        text={formatDuration(data.p50_duration_seconds)}
      />
      <Kpi
        name="p95"
        label="p95 duration"
        value={data.p95_duration_seconds}
        text={formatDuration(data.p95_duration_seconds)}
      />
      <Kpi
        name="avg-cost"
        label="Average cost"
        value={data.avg_cost}
        text={formatCost(data.avg_cost)}
        hint="per finished run"
      />
      <Kpi
        name="total-cost"
        label="Total cost"
        value={data.total_cost}
        text={formatCost(data.total_cost)}
      />
    </dl>
  );
}

function Charts({
  data,
  workflowId,
  timeframe,
}: {
  data: Analytics;
  workflowId: string;
  timeframe: Timeframe;
}) {
  const trends = useMemo(() => trendTable(data), [data]);
  const duration = useMemo(() => pick(trends, ["date", "runs", "avg_duration_seconds"]), [trends]);
  const success = useMemo(() => pick(trends, ["date", "runs", "success_rate"]), [trends]);
  const cost = useMemo(
    () => pick(trends, ["date", "runs", "total_cost", "cost_per_run"]),
    [trends],
  );
  const slowest = useMemo(() => slowestStepsTable(data.steps ?? []), [data]);
  const flakiest = useMemo(() => flakiestStepsTable(data.steps ?? []), [data]);
  const steps = useMemo(() => stepsTable(data.steps ?? []), [data]);
  const options = useMemo(
    () => ({
      duration: durationTrendOption(duration),
      success: successTrendOption(success),
      cost: costPerRunOption(cost),
      slowest: slowestStepsOption(slowest),
      flakiest: flakiestStepsOption(flakiest),
    }),
    [duration, success, cost, slowest, flakiest],
  );
  const file = (what: string) => csvFilename(workflowId, what, timeframe);
  const noDaily =
    data.daily === undefined ? "The API sent no daily figures." : "No runs in this timeframe.";
  return (
    <>
      <div className="grid gap-4 lg:grid-cols-3">
        <ChartCard
          testId="chart-duration"
          title="Duration trend"
          description="Average duration of completed runs, per day (UTC)"
          option={options.duration}
          table={duration}
          filename={file("duration-trend")}
          empty={noDaily}
          format={{ avg_duration_seconds: fmt.duration }}
        />
        <ChartCard
          testId="chart-success"
          title="Success-rate trend"
          description="Percent of finished runs that completed, per day (UTC)"
          option={options.success}
          table={success}
          filename={file("success-rate-trend")}
          empty={noDaily}
          format={{ success_rate: fmt.percent }}
        />
        <ChartCard
          testId="chart-cost"
          title="Cost per run"
          description="Total cost divided by runs, per day (UTC)"
          option={options.cost}
          table={cost}
          filename={file("cost-per-run")}
          empty={noDaily}
          format={{ total_cost: fmt.cost, cost_per_run: fmt.cost }}
        />
      </div>
      <div className="grid gap-4 lg:grid-cols-2">
        <ChartCard
          testId="chart-slowest"
          title="Slowest steps"
          description="Average duration of each step's completed runs"
          option={options.slowest}
          table={slowest}
          filename={file("slowest-steps")}
          height={Math.max(160, slowest.rows.length * 28 + 48)}
          empty="No step has completed yet."
          format={{ avg_duration_seconds: fmt.duration, avg_cost: fmt.cost }}
        />
        <ChartCard
          testId="chart-flakiest"
          title="Flakiest steps"
          description="Percent of finished step runs that failed or needed another attempt"
          option={options.flakiest}
          table={flakiest}
          filename={file("flakiest-steps")}
          height={Math.max(160, flakiest.rows.length * 36 + 64)}
          empty="No step failed or was retried in this timeframe."
          format={{ failure_rate: fmt.percent, retry_rate: fmt.percent }}
        />
      </div>
      <section
        aria-labelledby="steps-title"
        className="rounded-lg border border-slate-200 bg-white shadow-sm"
      >
        <header className="flex items-center justify-between gap-3 border-b border-slate-100 px-4 py-2.5">
          <h2 id="steps-title" className="text-sm font-semibold text-slate-900">
            Per step
          </h2>
          <CsvButton table={steps} filename={file("steps")} label="Per step" />
        </header>
        <div className="overflow-x-auto p-2" data-testid="steps-table">
          <DataTable
            table={steps}
            format={{
              avg_duration_seconds: fmt.duration,
              failure_rate: fmt.percent,
              retry_rate: fmt.percent,
              avg_cost: fmt.cost,
              total_cost: fmt.cost,
            }}
          />
        </div>
      </section>
    </>
  );
}

export function AnalyticsPage({ workflowId, canModify }: AnalyticsProps) {
  const [timeframe, setTimeframe] = useState<Timeframe>("last_7_days");
  const analytics = useAnalytics(workflowId, timeframe);
  const data = analytics.data;
  return (
    <div
      className="space-y-4"
      data-testid="analytics"
      data-ready={data && !analytics.isPlaceholderData ? "true" : "false"}
    >
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h2 className="text-base font-semibold text-slate-900">Performance</h2>
          <p className="text-xs text-slate-500">Real runs only (test runs are left out).</p>
        </div>
        <Segmented
          label="Timeframe"
          value={timeframe}
          options={TIMEFRAMES}
          onChange={setTimeframe}
        />
      </div>
      {analytics.isError && <ErrorBanner error={analytics.error} />}
      {analytics.isPending && <Loading label="Loading analytics…" />}
      {data &&
        (data.total_executions === 0 ? (
          <section
            className="rounded-lg border border-slate-200 bg-white shadow-sm"
            data-testid="analytics-empty"
          >
            <EmptyState title="Run this workflow to see analytics">
              No real runs in the last {TIMEFRAMES.find((t) => t.value === timeframe)?.label}. Start
              one with the Run button; durations, success rate, costs and the slowest steps appear
              here once it finishes.
            </EmptyState>
          </section>
        ) : (
          <>
            <Kpis data={data} />
            <Charts data={data} workflowId={workflowId} timeframe={timeframe} />
          </>
        ))}
      <OptimizePanel workflowId={workflowId} canModify={canModify} />
    </div>
  );
}
