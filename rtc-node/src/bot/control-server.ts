/**
 * The bot control API the Worker (and the hub's bot module) call, signed with HUB_SECRET exactly
 * like internal posts (`X-Hub-Timestamp`, `X-Hub-Signature` over the raw body):
 *   POST /bot/join  {guildId, channelId}        -> 200 {bot} | 409 BOT_BUSY {busyChannelIds}
 *   POST /bot/leave {guildId, channelId}        -> 200 | 404 BOT_NOT_AT_TABLE
 *   POST /bot/cue   {guildId, channelId, cue}   -> 200 once played | 404
 *   GET  /bot/status (signed over "")           -> 200 {bots}
 * Errors are `{error: {code, message}}` with a stable code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { z } from "zod";
import {
  BotCueRequest,
  BotErrorCode,
  BotJoinRequest,
  BotLeaveRequest,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyHubRequest,
  type Logger,
} from "@spell-coven/common";
import { RtcError, VoiceConnectError } from "../errors.ts";
import { BotBusyError } from "./bot-busy-error.ts";
import type { BotPool } from "./bot-pool.ts";

const MAX_BODY = 8 * 1024;

export interface ControlServerOptions {
  pool: BotPool;
  secret: string;
  log: Logger;
  linkAvailable: () => boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class ControlServer {
  private readonly server: Server;

  constructor(private readonly opts: ControlServerOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        const e = err instanceof HttpError ? err : toHttpError(err);
        if (e.status >= 500) opts.log.error("bot control request failed", { path: req.url, err: (err as Error).message });
        if (!res.headersSent) res.writeHead(e.status, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: e.code, message: e.message, ...e.extra } }));
      });
    });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const raw = await readBody(req);
    const check = await verifyHubRequest(this.opts.secret, header(req, TIMESTAMP_HEADER), header(req, SIGNATURE_HEADER), raw);
    if (!check.ok) throw new HttpError(401, BotErrorCode.Unauthorized, `${check.code}: ${check.message}`, { reason: check.code });
    const send = (body: unknown): void => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    const { pool } = this.opts;
    if (req.method === "GET" && path === "/bot/status") return send({ bots: pool.list(), link: this.opts.linkAvailable() });
    if (req.method !== "POST") throw new HttpError(405, "METHOD_NOT_ALLOWED", "use POST (GET only for /bot/status)");
    switch (path) {
      case "/bot/join": {
        const b = parse(BotJoinRequest, raw);
        if (!this.opts.linkAvailable()) throw new HttpError(503, BotErrorCode.LinkDown, "rtc-node has no link to gateway-node right now; try again shortly");
        this.opts.log.info("bot called to a table", { guildId: b.guildId, channelId: b.channelId, requestedBy: b.requestedBy });
        return send({ bot: await pool.join(b.guildId, b.channelId) });
      }
      case "/bot/leave": {
        const b = parse(BotLeaveRequest, raw);
        pool.leave(b.guildId, b.channelId);
        return send({ left: true });
      }
      case "/bot/cue": {
        const b = parse(BotCueRequest, raw);
        await pool.cue(b.guildId, b.channelId, b.cue);
        return send({ played: b.cue });
      }
      default:
        throw new HttpError(404, "NOT_FOUND", "routes: POST /bot/join, /bot/leave, /bot/cue; GET /bot/status");
    }
  }
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof BotBusyError) return new HttpError(409, err.code, err.message, { busyChannelIds: err.busyChannelIds });
  if (err instanceof VoiceConnectError) return new HttpError(502, BotErrorCode.JoinFailed, err.message, { reason: err.reason });
  if (err instanceof RtcError && err.code === BotErrorCode.NotHere) return new HttpError(404, err.code, err.message);
  if (err instanceof RtcError) return new HttpError(409, err.code, err.message);
  return new HttpError(500, "INTERNAL", "rtc-node failed on this request (see its log)");
}

function parse<S extends z.ZodType>(schema: S, raw: Buffer): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new HttpError(400, BotErrorCode.Malformed, "the body is not JSON");
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new HttpError(400, BotErrorCode.Malformed, `${i?.path.join(".") || "body"}: ${i?.message ?? "invalid"}`);
  }
  return r.data;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, BotErrorCode.Malformed, `body over ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
