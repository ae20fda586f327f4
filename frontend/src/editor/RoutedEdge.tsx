// The editor's edge: it follows the route ELK computed around the nodes (the last
// auto-layout) while both its ends are where that layout put them; otherwise a
// bezier forwards, or an orthogonal step path when the target is not to the right.
import { BaseEdge, getBezierPath, getSmoothStepPath, type EdgeProps } from "@xyflow/react";
import { memo } from "react";
import type { DagEdge } from "../dag/convert";
import type { XY } from "../dag/types";
import { useUiStore } from "./store";

/** How far (px) a handle may be from the route's end for the route to still apply. */
const TOLERANCE = 12;

const near = (p: XY, x: number, y: number) =>
  Math.abs(p.x - x) <= TOLERANCE && Math.abs(p.y - y) <= TOLERANCE;

/** A polyline with rounded corners (radius r, smaller where segments are short). */
export function roundedPath(points: XY[], r = 8): string {
  if (points.length < 2) return "";
  let d = `M ${points[0].x} ${points[0].y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const [a, b, c] = [points[i - 1], points[i], points[i + 1]];
    const inLen = Math.hypot(b.x - a.x, b.y - a.y);
    const outLen = Math.hypot(c.x - b.x, c.y - b.y);
    const k = Math.min(r, inLen / 2, outLen / 2);
    if (k < 0.5) {
      d += ` L ${b.x} ${b.y}`;
      continue;
    }
    const p1 = { x: b.x - ((b.x - a.x) / inLen) * k, y: b.y - ((b.y - a.y) / inLen) * k };
    const p2 = { x: b.x + ((c.x - b.x) / outLen) * k, y: b.y + ((c.y - b.y) / outLen) * k };
    d += ` L ${p1.x} ${p1.y} Q ${b.x} ${b.y} ${p2.x} ${p2.y}`;
  }
  const last = points[points.length - 1];
  return `${d} L ${last.x} ${last.y}`;
}

function RoutedEdgeView(props: EdgeProps<DagEdge>) {
  const { source, target, sourceX, sourceY, targetX, targetY } = props;
  const route = useUiStore((s) => s.routes[`${source}->${target}`]);
  let path: string;
  let labelX: number;
  let labelY: number;
  if (
    route &&
    route.length >= 2 &&
    near(route[0], sourceX, sourceY) &&
    near(route[route.length - 1], targetX, targetY)
  ) {
    // The handles sit a few px outside the node; the bends stay where ELK put them.
    path = roundedPath([
      { x: sourceX, y: sourceY },
      ...route.slice(1, -1),
      { x: targetX, y: targetY },
    ]);
    labelX = (sourceX + targetX) / 2;
    labelY = (sourceY + targetY) / 2;
  } else if (targetX > sourceX + 10) {
    [path, labelX, labelY] = getBezierPath(props);
  } else {
    [path, labelX, labelY] = getSmoothStepPath({ ...props, borderRadius: 8, offset: 24 });
  }
  return (
    <BaseEdge
      id={props.id}
      path={path}
      labelX={labelX}
      labelY={labelY}
      label={props.label}
      labelStyle={props.labelStyle}
      labelShowBg={props.labelShowBg}
      labelBgStyle={props.labelBgStyle}
      labelBgPadding={props.labelBgPadding}
      labelBgBorderRadius={props.labelBgBorderRadius}
      style={props.style}
      markerEnd={props.markerEnd}
      markerStart={props.markerStart}
      interactionWidth={props.interactionWidth}
    />
  );
}

export const RoutedEdge = memo(RoutedEdgeView);

/** Module scope, so React Flow never sees a new object. */
export const edgeTypes = { default: RoutedEdge };
