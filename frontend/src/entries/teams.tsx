// Placeholder island: replaced by its real implementation.
import { mountIsland } from "../lib/mount";

function Placeholder() {
  return <p className="text-sm text-slate-500">Loading…</p>;
}

mountIsland("teams-root", Placeholder);
