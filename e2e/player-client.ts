/** A minimal player for end-to-end tests: /api/ws with auth, acks and resume after a drop. */
import type { AuthOk } from "@spell-coven/common";

export class TestPlayer {
  readonly events: any[] = [];
  readonly authOks: AuthOk[] = [];
  #ws: WebSocket | null = null;
  #resume: { seq: number; epoch: string } | undefined;
  #waiters: { match: (m: any) => boolean; resolve: (m: any) => void }[] = [];

  readonly #workerUrl: string;
  readonly #token: () => Promise<string>;

  constructor(workerUrl: string, token: () => Promise<string>) {
    this.#workerUrl = workerUrl;
    this.#token = token;
  }

  /** Connects (resuming when it was connected before) and resolves on auth.ok. */
  async connect(): Promise<AuthOk> {
    const ws = new WebSocket(`${this.#workerUrl.replace(/^http/, "ws")}/api/ws`);
    this.#ws = ws;
    const token = await this.#token();
    const ok = this.next((m) => m.event === "auth.ok", 15_000);
    ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "auth", token, ...(this.#resume ? { resume: this.#resume } : {}) })));
    ws.addEventListener("message", (e) => this.#onMessage(JSON.parse(String(e.data))));
    return ok;
  }

  /** Keeps reconnecting (every 500 ms) until the Worker answers again. */
  async reconnect(deadlineMs = 60_000): Promise<AuthOk> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      try {
        return await this.connect();
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  next(match: (m: any) => boolean, timeoutMs = 10_000): Promise<any> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching message in ${timeoutMs} ms; events so far: ${JSON.stringify(this.events.slice(-5))}`)),
        timeoutMs,
      );
      this.#waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  /** Waits until the socket is closed (by the server going away, for example). */
  closed(): Promise<void> {
    const ws = this.#ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((r) => ws.addEventListener("close", () => r(), { once: true }));
  }

  /** Sends a client message (e.g. table.join). */
  send(message: unknown): void {
    this.#ws?.send(JSON.stringify(message));
  }

  close(): void {
    this.#ws?.close(1000);
  }

  #onMessage(m: any): void {
    if (m.event === "auth.ok") {
      this.authOks.push(m);
      this.#resume = { seq: m.seq, epoch: m.epoch };
    } else if (m.type === "event") {
      this.events.push(m);
      this.#resume = { seq: m.seq, epoch: this.#resume!.epoch };
      this.#ws?.send(JSON.stringify({ type: "ack", seq: m.seq }));
    }
    for (const w of [...this.#waiters]) {
      if (w.match(m)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }
}
