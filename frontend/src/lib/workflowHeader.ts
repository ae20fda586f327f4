// The header of every workflow page (templates/workflows/_shell.html) is rendered by
// the server; this keeps its status badge and version current without a reload.
//
// The workflow socket (docs/events.md) says when a run of the workflow starts or ends;
// the editor and the versions page announce a saved version with
// `announceWorkflowChanged`. Either way the header reads the workflow again from the
// API (`GET /workflows/{id}`), so it shows what the server would render: the latest
// real run's status (test runs do not count) and the current version.

import { statusStyle } from "../run/status";
import { api } from "./api";
import { openLiveStream } from "./live";

/** The window event a page dispatches after it saved a new version of the workflow. */
export const WORKFLOW_CHANGED = "prsm:workflow-changed";

export function announceWorkflowChanged(workflowId: string): void {
  window.dispatchEvent(new CustomEvent(WORKFLOW_CHANGED, { detail: { workflowId } }));
}

export interface HeaderState {
  status: string;
  version: string;
  version_number: number;
}

interface SocketMessage {
  kind?: string;
  type?: string;
}

/** Whether a message of the workflow socket can change the workflow's status: an
 * execution event (started, completed, failed, …), or a snapshot: the first one
 * closes the gap between the page's render and the socket's connection, a later one
 * (after a reconnection) the time the socket was down. */
export function changesStatus(message: SocketMessage): boolean {
  if (message.kind === "snapshot") return true;
  return message.kind === "event" && typeof message.type === "string"
    ? message.type.startsWith("execution.")
    : false;
}

export function versionText(state: Pick<HeaderState, "version" | "version_number">): string {
  return `${state.version} (v${state.version_number})`;
}

/** The badge of a workflow status, as templates/partials/status_badge.html draws it. */
export function statusBadge(status: string): HTMLElement {
  const badge = document.createElement("span");
  if (status === "created") {
    badge.className =
      "inline-flex items-center rounded-full border border-slate-200 bg-white px-2 py-0.5 text-xs font-medium text-slate-500";
    badge.textContent = "Not run yet";
    return badge;
  }
  const style = statusStyle(status);
  badge.className = `inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${style.badge}`;
  const dot = document.createElement("span");
  dot.setAttribute("aria-hidden", "true");
  dot.className = `h-1.5 w-1.5 rounded-full ${style.dot}`;
  badge.append(dot, style.label);
  return badge;
}

/** Put `state` into the header's status and version slots. */
export function applyHeader(header: HTMLElement, state: HeaderState): void {
  const status = header.querySelector<HTMLElement>("[data-testid='workflow-status']");
  if (status && status.dataset.status !== state.status) {
    status.dataset.status = state.status;
    status.replaceChildren(statusBadge(state.status));
  }
  const version = header.querySelector<HTMLElement>("[data-testid='workflow-version']");
  if (version) version.textContent = versionText(state);
}

/** Keep the header live for as long as the page is open. */
export function keepWorkflowHeaderLive(header: HTMLElement | null): void {
  const workflowId = header?.dataset.workflowId;
  if (!header || !workflowId) return;

  // One read at a time; a change announced during a read triggers one more.
  let reading = false;
  let again = false;
  const refresh = async () => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        const state = await api<HeaderState>(`/workflows/${encodeURIComponent(workflowId)}`);
        applyHeader(header, state);
      } while (again);
    } catch {
      // Keep what is shown; the next event or save tries again.
    } finally {
      reading = false;
    }
  };

  window.addEventListener(WORKFLOW_CHANGED, (event) => {
    const detail = (event as CustomEvent<{ workflowId?: string }>).detail;
    if (!detail?.workflowId || detail.workflowId === workflowId) void refresh();
  });

  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${window.location.host}/ws/workflows/${encodeURIComponent(workflowId)}/`;
  openLiveStream<SocketMessage>({
    url: () => url,
    onMessages: (messages) => {
      const changed = messages.some(changesStatus);
      if (changed) void refresh();
    },
  });
}
