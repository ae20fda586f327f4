import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_PREFS, prefsKey, readPrefs, writePrefs } from "./panelPrefs";

describe("panel choices", () => {
  beforeEach(() => window.localStorage.clear());

  it("are remembered for each user apart", () => {
    writePrefs(7, { palette: false, panel: true, minimap: false });
    expect(readPrefs(7)).toEqual({ palette: false, panel: true, minimap: false });
    expect(readPrefs(8).minimap).toBe(true);
  });

  it("fall back to the defaults on a value that is not theirs", () => {
    window.localStorage.setItem(prefsKey(7), '{"palette": "no", "minimap": false');
    expect(readPrefs(7).minimap).toBe(DEFAULT_PREFS.minimap);
    window.localStorage.setItem(prefsKey(7), '{"palette": "no", "minimap": false}');
    expect(readPrefs(7).minimap).toBe(false);
    expect(readPrefs(7).panel).toBe(true);
  });
});
