// Which editor panels are open (palette, side panel, minimap), remembered per
// user in localStorage, so a reload or another workflow opens them the same way.
import { useCallback, useState } from "react";

export interface PanelPrefs {
  palette: boolean;
  panel: boolean;
  minimap: boolean;
}

export const DEFAULT_PREFS: PanelPrefs = { palette: true, panel: true, minimap: true };

/** Below this window width the palette starts collapsed (the canvas needs the room). */
export const NARROW = 1200;

/** The first visit's choice: everything open, but the palette on a narrow window. */
export function defaultPrefs(): PanelPrefs {
  return { ...DEFAULT_PREFS, palette: window.innerWidth >= NARROW };
}

export const prefsKey = (user: string | number | null | undefined) =>
  `prsm:editor-panels:${user ?? "anonymous"}`;

export function readPrefs(user: string | number | null | undefined): PanelPrefs {
  try {
    const raw = window.localStorage.getItem(prefsKey(user));
    if (!raw) return defaultPrefs();
    const parsed = JSON.parse(raw) as Partial<PanelPrefs>;
    const out = defaultPrefs();
    for (const k of Object.keys(DEFAULT_PREFS) as (keyof PanelPrefs)[])
      if (typeof parsed[k] === "boolean") out[k] = parsed[k];
    return out;
  } catch {
    return defaultPrefs(); // storage disabled or a bad value: the defaults
  }
}

export function writePrefs(user: string | number | null | undefined, prefs: PanelPrefs): void {
  try {
    window.localStorage.setItem(prefsKey(user), JSON.stringify(prefs));
  } catch {
    // Storage full or disabled: the choice lasts until the page is left.
  }
}

/** The user's panel choices and a toggle that remembers each change. */
export function usePanelPrefs(
  user: string | number | null | undefined,
): [PanelPrefs, (key: keyof PanelPrefs) => void] {
  const [prefs, setPrefs] = useState(() => readPrefs(user));
  const toggle = useCallback(
    (key: keyof PanelPrefs) =>
      setPrefs((prev) => {
        const next = { ...prev, [key]: !prev[key] };
        writePrefs(user, next);
        return next;
      }),
    [user],
  );
  return [prefs, toggle];
}
