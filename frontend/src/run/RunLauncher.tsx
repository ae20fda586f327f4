// The "Run" button of every workflow page: a dialog with a form generated from the
// workflow's input_schema and the execution config; submitting starts the run and
// opens its live view.

import { lazy, Suspense, useState } from "react";
import { PlayIcon, PRIMARY } from "./buttons";

// The dialog (react-jsonschema-form and its validator) loads on the first click:
// every workflow page shows this button, few open it.
const RunDialog = lazy(() => import("./RunDialog"));

export interface RunLauncherProps {
  workflowId: string;
  canExecute: boolean;
}

export function RunLauncher({ workflowId, canExecute }: RunLauncherProps) {
  const [open, setOpen] = useState(false);
  if (!canExecute) {
    // Not a button: nothing to press. The tooltip says why.
    return (
      <span
        className="inline-flex cursor-not-allowed items-center gap-1.5 rounded-md bg-slate-100 px-3 py-1.5 text-sm font-medium text-slate-400"
        title="You can view this workflow but not run it. Ask its owner for execute access."
        data-testid="run-disabled"
        tabIndex={0}
        aria-label="Running this workflow needs execute access"
      >
        <PlayIcon />
        Run
      </span>
    );
  }
  return (
    <>
      <button
        type="button"
        className={PRIMARY}
        onClick={() => setOpen(true)}
        aria-haspopup="dialog"
      >
        <PlayIcon />
        Run
      </button>
      {open && (
        <Suspense fallback={<span className="sr-only">Loading…</span>}>
          <RunDialog workflowId={workflowId} onClose={() => setOpen(false)} />
        </Suspense>
      )}
    </>
  );
}
