// The steps on a timeline: one bar per top-level step from its start to its end (or
// now, while it runs), coloured by status. Apache ECharts, imported piece by piece
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

echarts.use([CustomChart, GridComponent, TooltipComponent, DataZoomComponent, CanvasRenderer]);

type Option = echarts.ComposeOption<CustomSeriesOption | GridComponentOption | TooltipComponentOption | DataZoomComponentOption>;

export interface GanttRow {
  index: number;
  stepId: string;
  label: string;
  start: number;
  end: number;
  status: string;
  running: boolean;
}

/** Bars for the chart: top-level steps that have started, in definition order. */
export function ganttRows(state: Pick<RunStoreState, "steps">, nodes: GraphNode[], now: number): GanttRow[] {
  const rows: GanttRow[] = [];
  nodes.forEach((node, index) => {
    const step = state.steps[node.id];
    if (!step?.startedAt) return;
    const start = Date.parse(step.startedAt);
    if (Number.isNaN(start)) return;
    const running = !step.completedAt;
    const end = step.completedAt ? Date.parse(step.completedAt) : now;
    rows.push({ index, stepId: node.id, label: node.step.name || node.id, start, end: Math.max(end, start), status: step.status, running });
  });
  return rows;
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
        const label = row.label.replace(/[<>&]/g, "");
        return `<b>${label}</b><br/>${style.label} · ${formatDuration((row.end - row.start) / 1000)}`;
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
          value: [r.index, r.start, r.end],
          itemStyle: { color: statusStyle(r.status).hex, opacity: r.running ? 0.75 : 1 },
        })),
        renderItem: (params, api) => {
          const category = api.value(0) as number;
          const start = api.coord([api.value(1), category]);
          const end = api.coord([api.value(2), category]);
          const height = (api.size?.([0, 1]) as number[])[1] * 0.55;
          const coords = params.coordSys as unknown as { x: number; y: number; width: number; height: number };
          const rect = echarts.graphic.clipRectByRect(
            { x: start[0], y: start[1] - height / 2, width: Math.max(end[0] - start[0], 2), height },
            { x: coords.x, y: coords.y, width: coords.width, height: coords.height },
          );
          return rect
            ? { type: "rect", transition: ["shape"], shape: { ...rect, r: 3 }, style: api.style() }
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
      el.dataset.bars = String(rows.length);
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
