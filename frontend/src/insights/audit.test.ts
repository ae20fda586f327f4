import { describe, expect, it } from "vitest";
import { objectHref, summaryText } from "./audit";
import { effectText } from "./OptimizePanel";

describe("summaryText", () => {
  it("says who was granted and revoked what when sharing", () => {
    expect(
      summaryText({
        action: "shared",
        summary: { granted: { read: ["bob"], execute: ["bob", "team:lab"] }, revoked: {} },
      }),
    ).toBe("granted read: bob; execute: bob, team:lab");
    expect(
      summaryText({ action: "shared", summary: { granted: {}, revoked: { read: ["bob"] } } }),
    ).toBe("revoked read: bob");
  });

  it("lists the fields of other summaries", () => {
    expect(
      summaryText({
        action: "budget_changed",
        summary: { monthly_budget: "50.00", previous: null },
      }),
    ).toBe("monthly budget: 50.00, previous: none");
  });
});

describe("objectHref", () => {
  it("links executions to their run page and workflows to the editor, not deleted ones", () => {
    expect(
      objectHref({
        object_type: "execution",
        object_id: "exec_1",
        workflow_id: "wf_1",
        action: "executed",
      }),
    ).toBe("/workflows/wf_1/runs/exec_1/");
    expect(
      objectHref({
        object_type: "workflow",
        object_id: "wf_1",
        workflow_id: "wf_1",
        action: "shared",
      }),
    ).toBe("/workflows/wf_1/");
    expect(
      objectHref({
        object_type: "workflow",
        object_id: "wf_1",
        workflow_id: "wf_1",
        action: "deleted",
      }),
    ).toBeNull();
  });
});

describe("effectText", () => {
  it("describes estimated effects per run", () => {
    expect(effectText({ duration_seconds: 10, cost: 0.05 })).toEqual([
      "−10.0 s per run",
      "−$0.0500 per run",
    ]);
    expect(effectText({ failure_rate_percent: { before: 40, after: 6.4 } })).toEqual([
      "failure rate 40.0% → 6.4%",
    ]);
    expect(effectText({ duration_seconds: 0 })).toEqual([]);
  });
});
