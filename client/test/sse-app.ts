/// <reference lib="dom" />
/**
 * The client library on its SSE transport in Chromium (a real EventSource), bundled by
 * e2e/browser/sse-stream.test.ts: it records every event's seq and the presence it holds.
 */
import { SpellCovenClient } from "../src/index.ts";

declare global {
  interface Window {
    mintToken(): Promise<string>;
    sseApp: { client: SpellCovenClient | null; seqs: number[]; states: string[]; start(url: string): void; presence(): Record<string, string[]> };
  }
}

window.sseApp = {
  client: null,
  seqs: [],
  states: [],
  start(url) {
    const client = new SpellCovenClient({
      url,
      getToken: () => window.mintToken(),
      transport: "sse",
      trackRooms: false,
      backoff: { baseMs: 200, maxMs: 1000 },
      maxReconnectAttempts: 20,
    });
    this.client = client;
    client.on("event", (e) => this.seqs.push(e.seq));
    client.on("state", (s) => this.states.push(s.state));
    client.connect();
  },
  presence() {
    return Object.fromEntries(Object.entries(this.client?.presence.toJSON() ?? {}).map(([k, v]) => [k, [...v].sort()]));
  },
};
