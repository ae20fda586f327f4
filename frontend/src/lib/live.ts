// The live stream of one execution: a reconnecting websocket that resumes where it
// left off (docs/events.md).
//
// partysocket's ReconnectingWebSocket asks a URL provider for the address of each
// (re)connection; ours appends `?after=<last seq seen>`, so after a dropped
// connection the server sends a fresh snapshot and then exactly the events we
// missed. Close codes 4400/4401/4403/4404 are answers, not accidents: they end the
// stream instead of retrying forever.

import ReconnectingWebSocket from "partysocket/ws";

export type LiveStatus = "connecting" | "open" | "reconnecting" | "closed" | "refused";

export interface LiveRefusal {
  code: number;
  reason: string;
}

/** Close codes the server uses to refuse a stream (docs/events.md). */
export const REFUSAL_CODES: ReadonlySet<number> = new Set([4400, 4401, 4403, 4404]);

export function describeRefusal(code: number): string {
  switch (code) {
    case 4401:
      return "You are signed out. Sign in again to watch this run.";
    case 4403:
      return "Your access to this workflow was removed.";
    case 4404:
      return "This run does not exist, or you do not have access to it.";
    case 4400:
      return "The live stream refused the request.";
    default:
      return `The live stream was refused (code ${code}).`;
  }
}

/** `ws(s)://host/ws/executions/<id>/` with `?after=<seq>` once any seq has been seen. */
export function executionSocketUrl(
  executionId: string,
  after: number | null,
  location: Pick<Location, "protocol" | "host"> = window.location,
): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const base = `${scheme}//${location.host}/ws/executions/${encodeURIComponent(executionId)}/`;
  return after !== null && after > 0 ? `${base}?after=${after}` : base;
}

export interface LiveStreamOptions<M> {
  /** The URL of the next (re)connection; called each time. */
  url: () => string;
  onMessages: (messages: M[]) => void;
  onStatus?: (status: LiveStatus, refusal?: LiveRefusal) => void;
  /** Keep-alive ping interval (the server also fills any gap before its pong). */
  pingMs?: number;
  /** Injected WebSocket class (tests). */
  WebSocket?: unknown;
}

export interface LiveStream {
  close(): void;
  /** Drop the current connection as a network failure would; the stream reconnects
   * by itself after its usual delay (tests and benchmarks). */
  drop(): void;
}

/**
 * Open a reconnecting stream. Messages are parsed and delivered in batches: all
 * messages that arrived before the next animation frame (or 50 ms) together, so a
 * burst of events costs one store update.
 */
export function openLiveStream<M>(options: LiveStreamOptions<M>): LiveStream {
  const { url, onMessages, onStatus } = options;
  let everOpened = false;
  let finished = false;
  let queue: M[] = [];
  let scheduled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let frame: number | undefined;

  const flush = () => {
    scheduled = false;
    if (timer !== undefined) clearTimeout(timer);
    if (frame !== undefined && typeof cancelAnimationFrame === "function")
      cancelAnimationFrame(frame);
    timer = frame = undefined;
    const batch = queue;
    queue = [];
    if (batch.length) onMessages(batch);
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    timer = setTimeout(flush, 50);
    if (typeof requestAnimationFrame === "function") frame = requestAnimationFrame(flush);
  };

  // Apply whatever is still queued before asking for the next URL, so `after` is the
  // highest seq received, not only the highest applied.
  const nextUrl = () => {
    flush();
    return url();
  };
  const socket = new ReconnectingWebSocket(nextUrl, null, {
    WebSocket: options.WebSocket,
    minReconnectionDelay: 500,
    maxReconnectionDelay: 10_000,
    reconnectionDelayGrowFactor: 1.6,
    connectionTimeout: 8_000,
    shouldReconnectOnClose: (event) => !REFUSAL_CODES.has(event.code),
  });

  socket.addEventListener("open", () => {
    everOpened = true;
    onStatus?.("open");
  });
  socket.addEventListener("message", (event: MessageEvent) => {
    if (typeof event.data !== "string") return;
    try {
      queue.push(JSON.parse(event.data) as M);
    } catch {
      return; // not JSON: ignore, as the server ignores ours
    }
    schedule();
  });
  socket.addEventListener("close", (event) => {
    flush(); // what arrived before the close is applied before any new snapshot
    if (finished) return;
    if (REFUSAL_CODES.has(event.code)) {
      finished = true;
      onStatus?.("refused", { code: event.code, reason: event.reason });
      return;
    }
    onStatus?.(everOpened ? "reconnecting" : "connecting");
  });

  const ping = setInterval(() => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
  }, options.pingMs ?? 25_000);

  onStatus?.("connecting");
  return {
    close() {
      finished = true;
      clearInterval(ping);
      flush();
      socket.close(1000, "done");
      onStatus?.("closed");
    },
    drop() {
      // Close the underlying socket, not the reconnecting wrapper: the wrapper then
      // sees an unexpected close and goes through its normal reconnect path.
      const raw = (socket as unknown as { _ws?: WebSocket })._ws;
      if (raw && raw.readyState === raw.OPEN) raw.close(4000, "connection dropped");
      else socket.reconnect(4000, "connection dropped");
    },
  };
}
