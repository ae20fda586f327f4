// The small mark before a status label: a dot, or the status's icon (a clock for a
// composite waiting for its steps).

import clsx from "clsx";
import type { StatusStyle } from "./status";

export function StatusMark({ style, size = "h-1.5 w-1.5" }: { style: StatusStyle; size?: string }) {
  if (style.icon === "clock") {
    return (
      <svg
        viewBox="0 0 16 16"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.75"
        strokeLinecap="round"
        className="h-3 w-3 shrink-0"
        aria-hidden="true"
        data-icon="clock"
      >
        <circle cx="8" cy="8" r="6.25" />
        <path d="M8 4.5V8l2.25 1.5" />
      </svg>
    );
  }
  return <span className={clsx("shrink-0 rounded-full", size, style.dot)} aria-hidden="true" />;
}
