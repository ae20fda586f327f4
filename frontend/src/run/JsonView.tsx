// Pretty JSON that folds: objects and arrays are <details> (keyboard accessible),
// open to a depth, with a copy button for the whole value.

import { useState } from "react";

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === "object" && value !== null;
}

function Scalar({ value }: { value: unknown }) {
  if (typeof value === "string") {
    return <span className="break-words whitespace-pre-wrap text-emerald-800">"{value}"</span>;
  }
  if (typeof value === "number") return <span className="text-blue-700">{value}</span>;
  if (typeof value === "boolean") return <span className="text-purple-700">{String(value)}</span>;
  return <span className="text-slate-400">null</span>;
}

function Node({
  name,
  value,
  depth,
  openDepth,
}: {
  name?: string;
  value: unknown;
  depth: number;
  openDepth: number;
}) {
  const label = name !== undefined ? <span className="text-slate-600">{name}: </span> : null;
  if (!isContainer(value)) {
    return (
      <div className="pl-4">
        {label}
        <Scalar value={value} />
      </div>
    );
  }
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value);
  const brackets = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (!entries.length) {
    return (
      <div className="pl-4">
        {label}
        <span className="text-slate-500">{brackets.join("")}</span>
      </div>
    );
  }
  return (
    <details open={depth < openDepth} className="pl-4 [&[open]>summary_.fold]:hidden">
      <summary className="-ml-4 cursor-pointer list-none rounded pl-0 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-brand-500 [&::-webkit-details-marker]:hidden">
        <span
          className="inline-block w-4 text-slate-400 transition-transform [details[open]>summary>&]:rotate-90"
          aria-hidden="true"
        >
          ▸
        </span>
        {label}
        <span className="text-slate-500">{brackets[0]}</span>
        <span className="fold text-slate-400">
          {" "}
          {entries.length} {Array.isArray(value) ? "items" : "keys"} {brackets[1]}
        </span>
      </summary>
      {entries.map(([k, v]) => (
        <Node
          key={k}
          name={Array.isArray(value) ? undefined : k}
          value={v}
          depth={depth + 1}
          openDepth={openDepth}
        />
      ))}
      <div className="-ml-0 text-slate-500">{brackets[1]}</div>
    </details>
  );
}

export function JsonView({
  value,
  openDepth = 2,
  label,
}: {
  value: unknown;
  openDepth?: number;
  label?: string;
}) {
  const [copied, setCopied] = useState(false);
  const text = JSON.stringify(value, null, 2) ?? "null";
  return (
    <div className="relative rounded-md border border-slate-200 bg-slate-50" data-json-view="">
      <button
        type="button"
        className="absolute top-1.5 right-1.5 rounded border border-slate-300 bg-white px-1.5 py-0.5 text-[11px] text-slate-600 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-brand-500"
        aria-label={label ? `Copy ${label}` : "Copy JSON"}
        onClick={() => {
          void navigator.clipboard?.writeText(text).then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          });
        }}
      >
        {copied ? "Copied" : "Copy"}
      </button>
      <div
        className="max-h-96 overflow-auto py-2 pr-14 font-mono text-xs leading-5 text-slate-800"
        aria-label={label}
      >
        <div className="-ml-4">
          <Node value={value} depth={0} openDepth={openDepth} />
        </div>
      </div>
    </div>
  );
}
