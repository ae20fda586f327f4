import { describe, expect, it } from "vitest";
import {
  costPerRunOption,
  durationTrendOption,
  flakiestStepsOption,
  flakiestStepsTable,
  amountTicks,
  pick,
  slowestStepsOption,
  slowestStepsTable,
  successTrendOption,
  trendTable,
  usageHoursOption,
  usageOverTimeOption,
  usageOverTimeTable,
  usageTable,
  windowDays,
} from "./charts";
import { toCsv } from "./csv";
import {
  formatCost,
  formatCostCompact,
  formatDuration,
  formatGbHours,
  formatHours,
  formatPercent,
} from "./format";
import type { Analytics, StepStat, Usage } from "./types";

/* eslint-disable @typescript-eslint/no-explicit-any */
const series = (option: any) => option.series as any[];

const steps: StepStat[] = [
  {
    step_id: "fetch",
    runs: 4,
    avg_duration_seconds: 2,
    failure_rate: 0,
    retry_rate: 0,
    avg_cost: 0,
  },
  {
    step_id: "analyze",
    runs: 4,
    avg_duration_seconds: 8,
    failure_rate: 25,
    retry_rate: 0,
    avg_cost: 0.06,
  },
  {
    step_id: "flaky",
    runs: 4,
    avg_duration_seconds: 1,
    failure_rate: 25,
    retry_rate: 50,
    avg_cost: 0,
  },
  {
    step_id: "never",
    runs: 0,
    avg_duration_seconds: null,
    failure_rate: null,
    retry_rate: null,
    avg_cost: null,
  },
];

const analytics: Analytics = {
  workflow_id: "wf_1",
  timeframe: "last_7_days",
  start: "2026-11-24T12:00:00Z",
  end: "2026-11-27T00:00:00Z",
  total_executions: 4,
  executions_by_status: { completed: 3, failed: 1 },
  success_rate: 75,
  avg_duration_seconds: 11,
  p50_duration_seconds: 10,
  p95_duration_seconds: 14,
  avg_cost: 0.06,
  total_cost: 0.24,
  steps,
  daily: [
    { date: "2026-11-25", runs: 1, success_rate: 100, avg_duration_seconds: 10, total_cost: 0.06 },
    {
      date: "2026-11-26",
      runs: 3,
      success_rate: 66.67,
      avg_duration_seconds: null,
      total_cost: 0.18,
    },
  ],
};

describe("trend charts", () => {
  const table = trendTable(analytics);

  it("maps the daily buckets to one row per day of the window with cost per run", () => {
    expect(table.rows).toEqual([
      {
        date: "2026-11-24",
        runs: 0,
        avg_duration_seconds: null,
        success_rate: null,
        total_cost: null,
        cost_per_run: null,
      },
      {
        date: "2026-11-25",
        runs: 1,
        avg_duration_seconds: 10,
        success_rate: 100,
        total_cost: 0.06,
        cost_per_run: 0.06,
      },
      {
        date: "2026-11-26",
        runs: 3,
        avg_duration_seconds: null,
        success_rate: 66.67,
        total_cost: 0.18,
        cost_per_run: 0.06,
      },
    ]);
  });

  it("draws the duration, success-rate and cost series from the table's columns", () => {
    const duration: any = durationTrendOption(
      pick(table, ["date", "runs", "avg_duration_seconds"]),
    );
    expect(duration.xAxis.data).toEqual(["2026-11-24", "2026-11-25", "2026-11-26"]);
    expect(series(duration)[0]).toMatchObject({ type: "line", data: [null, 10, null] });

    const success: any = successTrendOption(table);
    expect(series(success)[0].data).toEqual([null, 100, 66.67]);
    expect(success.yAxis).toMatchObject({ min: 0, max: 100 });

    const cost: any = costPerRunOption(table);
    expect(series(cost)[0]).toMatchObject({ type: "bar", data: [null, 0.06, 0.06] });
  });

  it("exports exactly the columns a chart shows", () => {
    const csv = toCsv(pick(table, ["date", "runs", "success_rate"]));
    expect(csv.split("\r\n")[0]).toBe("date,runs,success_rate_percent");
    expect(csv.split("\r\n")[1]).toBe("2026-11-24,0,");
    expect(csv.split("\r\n")[3]).toBe("2026-11-26,3,66.67");
  });

  it("has no rows when the API sent no daily buckets", () => {
    expect(trendTable({ ...analytics, daily: undefined }).rows).toEqual([]);
  });
});

describe("amountTicks", () => {
  it("labels the shared hours axis with plain numbers, as many decimals as needed", () => {
    expect(amountTicks(0.000001)(0.0000005)).toBe("0.0000005");
    expect(amountTicks(0.001)(0.0005)).toBe("0.0005");
    expect(amountTicks(0.5)(0.25)).toBe("0.25");
    expect(amountTicks(3)(1.5)).toBe("1.5");
    expect(amountTicks(0.004)(0.002)).not.toMatch(/ms|s$/);
  });
});

describe("windowDays", () => {
  it("lists every UTC day the window touches", () => {
    expect(windowDays("2026-11-26T15:00:00Z", "2026-11-27T15:00:00Z")).toEqual([
      "2026-11-26",
      "2026-11-27",
    ]);
    expect(windowDays("2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z")).toEqual(["2026-11-26"]);
    expect(windowDays(undefined, "2026-11-27T00:00:00Z")).toEqual([]);
  });
});

describe("step charts", () => {
  it("orders the slowest steps by average duration, leaving out steps never completed", () => {
    const table = slowestStepsTable(steps);
    expect(table.rows.map((r) => r.step_id)).toEqual(["analyze", "fetch", "flaky"]);
    const option: any = slowestStepsOption(table);
    expect(option.yAxis.data).toEqual(["analyze", "fetch", "flaky"]);
    expect(series(option)[0].data).toEqual([8, 2, 1]);
  });

  it("keeps only steps that failed or retried, worst failure rate first", () => {
    const table = flakiestStepsTable(steps);
    expect(table.rows.map((r) => r.step_id)).toEqual(["flaky", "analyze"]);
    const option: any = flakiestStepsOption(table);
    expect(series(option).map((s) => [s.name, s.data])).toEqual([
      ["Failure rate", [25, 25]],
      ["Retry rate", [50, 0]],
    ]);
  });
});

describe("usage charts", () => {
  const usage: Usage = {
    timeframe: "last_7_days",
    start: "",
    end: "",
    group_by: "workflow_id",
    groups: [
      {
        key: "wf_a",
        name: "Alpha",
        cpu_hours: 1,
        ram_gb_hours: 2,
        gpu_hours: 0.5,
        total_cost: 3,
        executions: 4,
      },
      {
        key: "wf_b",
        name: "",
        cpu_hours: 0.25,
        ram_gb_hours: 0,
        gpu_hours: 0,
        total_cost: 0.5,
        executions: 1,
      },
    ],
  };

  it("shows cpu, ram and gpu hours side by side per group, labelled by name and id", () => {
    const table = usageTable(usage);
    expect(table.columns.map((c) => c.key)).toEqual([
      "key",
      "name",
      "executions",
      "cpu_hours",
      "ram_gb_hours",
      "gpu_hours",
      "total_cost",
    ]);
    const option: any = usageHoursOption(table);
    expect(option.yAxis.data).toEqual(["Alpha (wf_a)", "wf_b"]);
    expect(series(option).map((s) => [s.name, s.stack, s.data])).toEqual([
      ["CPU hours", undefined, [1, 0.25]],
      ["RAM GB-hours", undefined, [2, 0]],
      ["GPU hours", undefined, [0.5, 0]],
    ]);
    // each in its own unit, none in seconds or milliseconds
    const tips = series(option).map((s) => s.tooltip.valueFormatter(0.001));
    expect(tips).toEqual(["0.0010 h", "0.0010 GB·h", "0.0010 h"]);
  });

  it("stacks the cost per day by group, days without runs as zero", () => {
    const table = usageOverTimeTable(
      [
        { date: "2026-11-25", usage },
        { date: "2026-11-26", usage: { ...usage, groups: [] } },
      ],
      "workflow_id",
    );
    expect(table.rows).toHaveLength(2);
    const option: any = usageOverTimeOption(table);
    expect(option.xAxis.data).toEqual(["2026-11-25"]);
    expect(series(option).map((s) => [s.name, s.data])).toEqual([
      ["wf_a", [3]],
      ["wf_b", [0.5]],
    ]);
  });
});

describe("formatting", () => {
  it("formats durations, costs, percentages and hours for people", () => {
    expect(formatDuration(0.4567)).toBe("457 ms");
    expect(formatDuration(1.5)).toBe("1.50 s");
    expect(formatDuration(12.34)).toBe("12.3 s");
    expect(formatDuration(125)).toBe("2 min 5 s");
    expect(formatDuration(3 * 3600 + 120)).toBe("3 h 2 min");
    expect(formatDuration(null)).toBe("—");
    expect(formatCost(0.001234)).toBe("$0.0012");
    expect(formatCost(0)).toBe("$0.00");
    expect(formatCost(0.00001)).toBe("<$0.0001");
    expect(formatCost(1234.5)).toBe("$1,234.50");
    expect(formatPercent(66.666)).toBe("66.7%");
    expect(formatHours(0.5)).toBe("0.50 h");
    expect(formatHours(0.001)).toBe("0.0010 h");
    expect(formatHours(0.0000123)).toBe("0.000012 h");
    expect(formatGbHours(0.00042)).toBe("0.00042 GB·h");
    expect(formatGbHours(2)).toBe("2.00 GB·h");
    expect(formatCostCompact(0.8)).toBe("$0.80");
    expect(formatCostCompact(0.0012)).toBe("$0.0012");
  });
});

describe("time bounds sent to the API", () => {
  it("gives a UTC day as explicit instants from its start to the next day's", async () => {
    const { utcDayBounds } = await import("./api");
    expect(utcDayBounds("2026-02-28")).toEqual({
      start: "2026-02-28T00:00:00.000Z",
      end: "2026-03-01T00:00:00.000Z",
    });
  });

  it("turns a local date into its start, or the next day's for an inclusive end, and passes non-dates through", async () => {
    const { localDayInstant } = await import("./api");
    expect(localDayInstant("2026-01-31")).toBe(new Date(2026, 0, 31).toISOString());
    expect(localDayInstant("2026-01-31", true)).toBe(new Date(2026, 1, 1).toISOString());
    expect(localDayInstant("2024-13-45")).toBe("2024-13-45");
    expect(localDayInstant("yesterday")).toBe("yesterday");
  });
});
