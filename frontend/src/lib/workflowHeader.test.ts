import { describe, expect, it } from "vitest";
import { applyHeader, changesStatus, versionText } from "./workflowHeader";

describe("the live workflow header", () => {
  it("reads the workflow again on execution events and on every snapshot", () => {
    expect(changesStatus({ kind: "event", type: "execution.completed" })).toBe(true);
    expect(changesStatus({ kind: "event", type: "execution.started" })).toBe(true);
    expect(changesStatus({ kind: "event", type: "step.completed" })).toBe(false);
    expect(changesStatus({ kind: "snapshot" })).toBe(true);
    expect(changesStatus({ kind: "pong" })).toBe(false);
  });

  it("redraws the badge and the version", () => {
    const header = document.createElement("header");
    header.innerHTML =
      '<span data-testid="workflow-status" data-status="running"><span>Running</span></span>' +
      '<dd data-testid="workflow-version">1.0 (v1)</dd>';
    applyHeader(header, { status: "completed", version: "1.0", version_number: 2 });
    const status = header.querySelector<HTMLElement>("[data-testid='workflow-status']")!;
    expect(status.dataset.status).toBe("completed");
    expect(status.textContent).toBe("Completed");
    expect(header.querySelector("[data-testid='workflow-version']")!.textContent).toBe("1.0 (v2)");
    applyHeader(header, { status: "created", version: "2.0", version_number: 3 });
    expect(status.textContent).toBe("Not run yet");
    expect(versionText({ version: "2.0", version_number: 3 })).toBe("2.0 (v3)");
  });
});
