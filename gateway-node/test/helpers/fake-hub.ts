/**
 * A small stand-in for the Worker's POST /api/internal/events: verifies the HMAC signature with
 * the shared code, validates the body with the shared schema, dedups by id like the Worker, and
 * records what it accepted. Can be told to answer 503, hang, reject ids, or be down.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { InternalEventsBody, verifyHubRequest, type InternalEvent } from "@spell-coven/common";

export type HubMode = "ok" | "503" | "hang" | "401";

export class FakeHub {
  readonly events: InternalEvent[] = [];
  readonly seen = new Set<string>();
  posts = 0;
  /** The `traceparent` header of each post that had one. */
  readonly traceparents: string[] = [];
  duplicatePosts = 0;
  badSignatures = 0;
  mode: HubMode = "ok";
  /** Ids the hub rejects with 400 (a poison event). */
  rejectIds = new Set<string>();
  private server: http.Server | null = null;
  private sockets = new Set<Socket>();
  private port = 0;
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];

  constructor(readonly secret = "test-secret-test-secret-test-secret!") {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/api/internal/events`;
  }

  async start(port = 0): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(port || this.port, "127.0.0.1", () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Down: stops listening and kills open connections (connection refused afterwards). */
  async down(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((r) => s.close(() => r()));
  }

  async up(): Promise<void> {
    await this.start(this.port);
  }

  async close(): Promise<void> {
    await this.down();
  }

  byGuild(guildId: string): InternalEvent[] {
    return this.events.filter((e) => e.guildId === guildId);
  }

  ofType<E extends InternalEvent["event"]>(event: E): Extract<InternalEvent, { event: E }>[] {
    return this.events.filter((e) => e.event === event) as any;
  }

  waitFor(pred: () => boolean, timeoutMs = 10_000, what = "hub condition"): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: () => (clearTimeout(t), resolve()) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(
          new Error(
            `timed out waiting for ${what}; hub has ${this.events.length} events: ${this.events
              .map((e) => e.id)
              .join(", ")
              .slice(0, 2000)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => {
      if (w.pred()) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    this.posts++;
    if (typeof req.headers.traceparent === "string") this.traceparents.push(req.headers.traceparent);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (this.mode === "hang") return; // never answers
    if (this.mode === "503") return json(503, { error: { code: "UNAVAILABLE", message: "down for test", requestId: "r" } });
    const check = await verifyHubRequest(
      this.mode === "401" ? "some-other-secret" : this.secret,
      req.headers["x-hub-timestamp"] as string,
      req.headers["x-hub-signature"] as string,
      new Uint8Array(raw),
    );
    if (!check.ok) {
      this.badSignatures++;
      return json(401, { error: { code: check.code, message: check.message, requestId: "r" } });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      return json(400, { error: { code: "BAD_JSON", message: "not JSON", requestId: "r" } });
    }
    const parsed = InternalEventsBody.safeParse(body);
    if (!parsed.success) return json(400, { error: { code: "BAD_BODY", message: parsed.error.message.slice(0, 300), requestId: "r" } });
    const poison = parsed.data.events.find((e) => this.rejectIds.has(e.id));
    if (poison) return json(400, { error: { code: "BAD_EVENT", message: `event ${poison.id} rejected`, requestId: "r" } });
    let accepted = 0;
    let duplicates = 0;
    for (const e of parsed.data.events) {
      if (this.seen.has(e.id)) {
        duplicates++;
        continue;
      }
      this.seen.add(e.id);
      this.events.push(e);
      accepted++;
    }
    if (duplicates) this.duplicatePosts++;
    json(200, { accepted, duplicates, requestId: "r" });
    this.notify();
  }
}
