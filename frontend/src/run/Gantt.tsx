// The steps on a timeline: one bar per attempt of each top-level step from its start to
// its end (or now, while it runs), coloured by status (a failed attempt pale red, outlined,
// the wait before the next attempt a dashed line, a composite waiting for its steps
// dashed). Apache ECharts, imported piece by piece
// (core + the custom series + the components used) to keep the bundle small. The
// chart reads the live store directly (no React re-render per event) and redraws at
// most once a second.

import { CustomChart, type CustomSeriesOption } from "echarts/charts";
import {
  DataZoomComponent,
  GridComponent,
  TooltipComponent,
  type DataZoomComponentOption,
  type GridComponentOption,
  type TooltipComponentOption,
} from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { useEffect, useRef } from "react";
import type { RunStoreState } from "./store";
import { useRunStoreApi } from "./store";
import { formatDuration, statusStyle } from "./status";
import type { GraphNode } from "./graph";
import { attemptSegments, type SegmentKind } from "./attempts";

echarts.use([CustomChart, GridComponent, TooltipComponent, DataZoomComponent, CanvasRenderer]);

type Option = echarts.ComposeOption<
  CustomSeriesOption | GridComponentOption | TooltipComponentOption | DataZoomComponentOption
>;

export interface GanttRow {
  index: number;
  stepId: string;
  label: string;
  start: number;
  end: number;
  status: string;
  running: boolean;
  /** An attempt that ran (or runs), one that failed, or the wait before the next. */
  kind: SegmentKind;
  attempt: number;
  /** What the tooltip says of it beyond the step's name. */
  text: string;
}

/** Bars for the chart: each attempt of the top-level steps that have started (and the
 * waits between them), in definition order. */
export function ganttRows(
  state: Pick<RunStoreState, "steps">,
  nodes: GraphNode[],
  now: number,
): GanttRow[] {
  const rows: GanttRow[] = [];
  nodes.forEach((node, index) => {
    const step = state.steps[node.id];
    if (!step) return;
    for (const segment of attemptSegments(step, now)) {
      if (Number.isNaN(segment.start)) continue;
      rows.push({ ...segment, index, stepId: node.id, label: node.step.name || node.id });
    }
  });
  return rows;
}

/** A bar's colour by status; a composite waiting for its steps is an outline, dashed. */
export function barStyle(row: Pick<GanttRow, "status" | "running"> & { kind?: SegmentKind }) {
  const hex = statusStyle(row.status).hex;
  if (row.kind === "failed") {
    return {
      color: hex,
      opacity: 0.45,
      borderColor: hex,
      borderWidth: 1.5,
    };
  }
  if (row.kind === "wait") return { color: hex, opacity: 0.9 };
  if (row.status === "waiting") {
    return {
      color: hex,
      opacity: 0.35,
      borderColor: hex,
      borderWidth: 1.5,
      borderType: "dashed" as const,
    };
  }
  return { color: hex, opacity: row.running ? 0.75 : 1 };
}

function option(rows: GanttRow[], nodes: GraphNode[]): Option {
  const labels = nodes.map((n) => n.step.name || n.id);
  return {
    animation: false,
    grid: { left: 8, right: 24, top: 8, bottom: 36, containLabel: true },
    tooltip: {
      trigger: "item",
      formatter: (p: unknown) => {
        const row = rows[(p as { dataIndex: number }).dataIndex];
        if (!row) return "";
        const style = statusStyle(row.status);
        const clean = (text: string) => text.replace(/[<>&]/g, "");
        const what = row.text ? clean(row.text) : style.label;
        return `<b>${clean(row.label)}</b><br/>${what} · ${formatDuration((row.end - row.start) / 1000)}`;
      },
    },
    xAxis: {
      type: "time",
      axisLabel: { color: "#64748b", fontSize: 11, hideOverlap: true },
      splitLine: { show: true, lineStyle: { color: "#f1f5f9" } },
    },
    yAxis: {
      type: "category",
      data: labels,
      inverse: true,
      axisTick: { show: false },
      axisLine: { lineStyle: { color: "#e2e8f0" } },
      axisLabel: { color: "#334155", fontSize: 12, width: 140, overflow: "truncate" },
    },
    dataZoom: [{ type: "inside", filterMode: "weakFilter" }],
    series: [
      {
        type: "custom",
        encode: { x: [1, 2], y: 0 },
        data: rows.map((r) => ({
          value: [r.index, r.start, r.end, r.kind === "wait" ? 1 : 0],
          itemStyle: barStyle(r),
        })),
        renderItem: (params, api) => {
          const category = api.value(0) as number;
          const start = api.coord([api.value(1), category]);
          const end = api.coord([api.value(2), category]);
          // a wait is a thin line through the middle of the row: the gap, not a bar
          const isWait = api.value(3) === 1;
          const height = isWait ? 2 : (api.size?.([0, 1]) as number[])[1] * 0.55;
          const coords = params.coordSys as unknown as {
            x: number;
            y: number;
            width: number;
            height: number;
          };
          const rect = echarts.graphic.clipRectByRect(
            {
              x: start[0],
              y: start[1] - height / 2,
              width: Math.max(end[0] - start[0], 2),
              height,
            },
            { x: coords.x, y: coords.y, width: coords.width, height: coords.height },
          );
          return rect
            ? {
                type: "rect",
                transition: ["shape"],
                shape: { ...rect, r: isWait ? 0 : 3 },
                style: api.style(),
              }
            : null;
        },
      },
    ],
  };
}

export default function Gantt({ nodes }: { nodes: GraphNode[] }) {
  const store = useRunStoreApi();
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const chart = echarts.init(el, undefined, { renderer: "canvas" });
    let dirty = true;
    const draw = () => {
      if (!dirty) return;
      const state = store.getState();
      const rows = ganttRows(state, nodes, Date.now());
      chart.setOption(option(rows, nodes), { notMerge: true, lazyUpdate: true });
      // Counts for tests: attempt bars (failed ones among them) and waits between them.
      el.dataset.bars = String(rows.filter((r) => r.kind !== "wait").length);
      el.dataset.failedBars = String(rows.filter((r) => r.kind === "failed").length);
      el.dataset.waits = String(rows.filter((r) => r.kind === "wait").length);
      // While something runs, its bar grows: keep redrawing.
      dirty = rows.some((r) => r.running);
    };
    draw();
    let soon: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = store.subscribe((state, prev) => {
      if (state.steps === prev.steps) return;
      dirty = true;
      // A status change shows within a moment, not at the next tick.
      soon ??= setTimeout(() => {
        soon = undefined;
        draw();
      }, 150);
    });
    const timer = setInterval(draw, 1000);
    const resize = new ResizeObserver(() => chart.resize());
    resize.observe(el);
    return () => {
      clearInterval(timer);
      clearTimeout(soon);
      unsubscribe();
      resize.disconnect();
      chart.dispose();
    };
  }, [store, nodes]);

  const height = Math.max(140, Math.min(nodes.length, 24) * 32 + 56);
  return (
    <div
      ref={ref}
      style={{ height }}
      className="w-full"
      role="img"
      aria-label="Timeline of the steps: when each started and finished"
      data-testid="gantt"
    />
  );
}
