// Pure helpers: turn the API's per-action lists into one row per person or team, and back.
import { ACTIONS, type Action, type Grants } from "./api";

export const TEAM_PREFIX = "team:";

export interface Principal {
  name: string; // "bob" or "team:lab"
  isTeam: boolean;
  actions: Set<Action>;
}

/** One row per user or team (the owner left out), users first, then teams, by name. */
export function principalsOf(grants: Grants, owner: string): Principal[] {
  const rows = new Map<string, Principal>();
  for (const action of ACTIONS) {
    for (const name of grants[action] ?? []) {
      if (name === owner) continue;
      const row = rows.get(name) ?? {
        name,
        isTeam: name.startsWith(TEAM_PREFIX),
        actions: new Set(),
      };
      row.actions.add(action);
      rows.set(name, row);
    }
  }
  return [...rows.values()].sort(
    (a, b) => Number(a.isTeam) - Number(b.isTeam) || a.name.localeCompare(b.name),
  );
}

/** The full request body for a new set of rows (the server keeps the owner's grants). */
export function grantsOf(principals: Principal[]): Grants {
  const grants: Grants = { read: [], execute: [], modify: [], delete: [] };
  for (const p of principals) for (const action of p.actions) grants[action].push(p.name);
  return grants;
}

/** Set or clear one action of one principal; a principal left with nothing is removed. */
export function withAction(
  principals: Principal[],
  name: string,
  action: Action,
  on: boolean,
): Principal[] {
  return principals
    .map((p) => {
      if (p.name !== name) return p;
      const actions = new Set(p.actions);
      if (on) actions.add(action);
      else actions.delete(action);
      return { ...p, actions };
    })
    .filter((p) => p.actions.size > 0);
}

/** Add (or widen) a principal's grants. */
export function withPrincipal(
  principals: Principal[],
  name: string,
  actions: Action[],
): Principal[] {
  const existing = principals.find((p) => p.name === name);
  if (existing) {
    return principals.map((p) =>
      p.name === name ? { ...p, actions: new Set([...p.actions, ...actions]) } : p,
    );
  }
  return [...principals, { name, isTeam: name.startsWith(TEAM_PREFIX), actions: new Set(actions) }];
}

export const ACTION_LABELS: Record<Action, string> = {
  read: "Read",
  execute: "Execute",
  modify: "Modify",
  delete: "Delete",
};

export const ACTION_HELP: Record<Action, string> = {
  read: "See the workflow, its versions and runs",
  execute: "Start runs (implies read)",
  modify: "Save new versions (implies read)",
  delete: "Delete the workflow (implies read)",
};
