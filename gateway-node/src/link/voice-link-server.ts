/**
 * The voice link server: rtc-node's authenticated WebSocket into this process's Gateway
 * sessions, so the bot never opens a second session (identifies are limited, and a second
 * session would duplicate every event). rtc-node sends op 4 (`voice_state`), sent on the shard
 * of that guild; it receives the bot's own VOICE_STATE_UPDATE and every VOICE_SERVER_UPDATE of
 * the guilds here, and `session` when a shard becomes READY or RESUMED.
 *
 * Auth: `Authorization: Bearer <LINK_TOKEN>` (constant-time compare), refused with 401 before the
 * upgrade; peers outside loopback and private networks get 403. A malformed command gets an
 * `error` message with a stable code; the socket stays open.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { timingSafeEqual, createHash } from "node:crypto";
import { WebSocketServer, WebSocket } from "ws";
import { LinkCommand, LinkErrorCode, type LinkMessage, type Logger } from "@spell-coven/common";
import type { DispatchBus } from "../gateway/dispatch-bus.ts";

export interface VoiceLinkServerOptions {
  token: string;
  bus: DispatchBus;
  sendToGuild(guildId: string, payload: { op: number; d: unknown }): void;
  log: Logger;
}

/** Loopback, RFC 1918, CGNAT/Fly 6PN (fdaa::/16 and other ULA fc00::/7), link-local. */
export function isPrivateAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  const a = addr.startsWith("::ffff:") ? addr.slice(7) : addr;
  if (a === "::1" || a.startsWith("127.")) return true;
  if (/^10\./.test(a) || /^192\.168\./.test(a) || /^169\.254\./.test(a)) return true;
  const m = /^172\.(\d+)\./.exec(a);
  if (m && Number(m[1]) >= 16 && Number(m[1]) <= 31) return true;
  const c = /^100\.(\d+)\./.exec(a);
  if (c && Number(c[1]) >= 64 && Number(c[1]) <= 127) return true;
  return /^f[cd][0-9a-f]{2}:/i.test(a) || /^fe80:/i.test(a);
}

const digest = (s: string) => createHash("sha256").update(s).digest();

export class VoiceLinkServer {
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
  private readonly clients = new Set<WebSocket>();
  private botUserId: string | null = null;
  private readonly unsubscribe: () => void;
  /** Upgrades refused (bad token / address), for tests and metrics. */
  refused = 0;

  constructor(private readonly opts: VoiceLinkServerOptions) {
    this.http = createServer((_req, res) =>
      res
        .writeHead(426, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { code: "LINK_UPGRADE_REQUIRED", message: "the voice link is a WebSocket" } })),
    );
    this.http.on("upgrade", (req, socket, head) => this.onUpgrade(req, socket, head));
    this.unsubscribe = opts.bus.subscribe((t, d) => this.onDispatch(t, d), { types: ["READY", "RESUMED", "VOICE_STATE_UPDATE", "VOICE_SERVER_UPDATE"] });
  }

  get connections(): number {
    return this.clients.size;
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(port, host, () => resolve((this.http.address() as AddressInfo).port));
    });
  }

  async close(): Promise<void> {
    this.unsubscribe();
    for (const c of this.clients) c.close(1001, "gateway-node stopping");
    this.wss.close();
    await new Promise<void>((r) => this.http.close(() => r()));
    this.http.closeAllConnections?.();
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, code: string, message: string) => {
      this.refused++;
      this.opts.log.warn("voice link refused", { status, code, remote: req.socket.remoteAddress });
      const body = JSON.stringify({ error: { code, message } });
      socket.end(
        `HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : "Forbidden"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if (!isPrivateAddress(req.socket.remoteAddress))
      return refuse(403, "LINK_ADDRESS_REFUSED", "the voice link accepts loopback and private-network peers only");
    const auth = req.headers.authorization ?? "";
    const given = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    if (!given || !timingSafeEqual(digest(given), digest(this.opts.token)))
      return refuse(401, "LINK_TOKEN_INVALID", "missing or wrong LINK_TOKEN (Authorization: Bearer <LINK_TOKEN>)");
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  private onConnection(ws: WebSocket): void {
    this.clients.add(ws);
    this.opts.log.info("voice link: rtc-node connected", { connections: this.clients.size });
    this.send(ws, { type: "hello", botUserId: this.botUserId });
    ws.on("message", (data) => this.onCommand(ws, String(data)));
    ws.on("close", () => {
      this.clients.delete(ws);
      this.opts.log.info("voice link: rtc-node disconnected", { connections: this.clients.size });
    });
    ws.on("error", () => ws.terminate());
  }

  private onCommand(ws: WebSocket, text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.send(ws, { type: "error", code: LinkErrorCode.MalformedCommand, message: "not JSON" });
    }
    const parsed = LinkCommand.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.send(ws, {
        type: "error",
        code: LinkErrorCode.MalformedCommand,
        message: `${issue?.path.join(".") || "command"}: ${issue?.message ?? "invalid"}`,
      });
    }
    const c = parsed.data;
    try {
      this.opts.sendToGuild(c.guildId, { op: 4, d: { guild_id: c.guildId, channel_id: c.channelId, self_mute: c.selfMute, self_deaf: c.selfDeaf } });
    } catch (err) {
      const notHere = (err as Error).name === "NotOnThisProcessError";
      this.send(ws, { type: "error", code: notHere ? LinkErrorCode.GuildNotHere : LinkErrorCode.SendFailed, message: (err as Error).message });
    }
  }

  private onDispatch(t: string, d: unknown): void {
    const data = d as Record<string, unknown> & { user?: { id?: string }; user_id?: string };
    if (t === "READY" || t === "RESUMED") {
      if (t === "READY" && data.user?.id) this.botUserId = data.user.id;
      if (this.botUserId) this.broadcast({ type: "session", event: t === "READY" ? "ready" : "resumed", botUserId: this.botUserId });
      return;
    }
    // Other users' voice states are the Translator's business; only the bot's own go on.
    if (t === "VOICE_STATE_UPDATE" && (!this.botUserId || data.user_id !== this.botUserId)) return;
    this.broadcast({ type: "dispatch", t: t as "VOICE_STATE_UPDATE" | "VOICE_SERVER_UPDATE", d: data });
  }

  private broadcast(m: LinkMessage): void {
    if (this.clients.size === 0) return;
    const text = JSON.stringify(m);
    for (const c of this.clients) if (c.readyState === WebSocket.OPEN) c.send(text);
  }

  private send(ws: WebSocket, m: LinkMessage): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
  }
}
