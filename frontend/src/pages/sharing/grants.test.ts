import { describe, expect, it } from "vitest";
import { grantsOf, principalsOf, withAction, withPrincipal } from "./grants";

const GRANTS = {
  read: ["alice", "bob", "team:lab"],
  execute: ["alice", "team:lab"],
  modify: ["alice"],
  delete: ["alice"],
};

describe("sharing grants", () => {
  it("makes one row per principal, owner left out, users before teams", () => {
    const rows = principalsOf(GRANTS, "alice");
    expect(rows.map((r) => r.name)).toEqual(["bob", "team:lab"]);
    expect([...rows[1].actions]).toEqual(["read", "execute"]);
    expect(rows[1].isTeam).toBe(true);
  });

  it("round-trips to the request body without the owner", () => {
    expect(grantsOf(principalsOf(GRANTS, "alice"))).toEqual({
      read: ["bob", "team:lab"],
      execute: ["team:lab"],
      modify: [],
      delete: [],
    });
  });

  it("drops a principal whose last action is cleared", () => {
    const rows = withAction(principalsOf(GRANTS, "alice"), "bob", "read", false);
    expect(rows.map((r) => r.name)).toEqual(["team:lab"]);
  });

  it("adds a new principal or widens an existing one", () => {
    const rows = withPrincipal(principalsOf(GRANTS, "alice"), "bob", ["execute"]);
    expect([...rows[0].actions].sort()).toEqual(["execute", "read"]);
    const more = withPrincipal(rows, "carol", ["read"]);
    expect(more.map((r) => r.name)).toEqual(["bob", "team:lab", "carol"]);
  });
});
