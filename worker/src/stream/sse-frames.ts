/** Server-Sent Events framing (WHATWG HTML, "Server-sent events"): one string per message. */

/** A message; `data` is JSON on one line, so it never needs splitting across `data:` lines. */
export function sseMessage(m: { id?: string; event: string; data: string }): string {
  return `${m.id === undefined ? "" : `id: ${m.id}\n`}event: ${m.event}\ndata: ${m.data}\n\n`;
}

/** A comment line: ignored by EventSource, it keeps idle connections open through proxies. */
export const sseComment = (text: string) => `: ${text.replace(/[\r\n]/g, " ")}\n\n`;

/** How long EventSource waits before reconnecting after the stream ends. */
export const sseRetry = (ms: number) => `retry: ${Math.round(ms)}\n\n`;
