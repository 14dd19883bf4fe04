/**
 * The REST API under /api/v10: authentication, outage, injected failures, rate limits (global,
 * then per route), JSON bodies, Discord's error format, and a record of every request.
 * Order of checks follows what a client can observe on Discord: 401 before 429 before 4xx/2xx.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import { SimulatedApiError } from "../errors.ts";
import type { RateLimitConfig, RecordedRequest } from "../types.ts";
import type { RestEnvironment } from "./context.ts";
import { bucketHash, bucketHeaders, RateLimiter, type BucketState } from "./ratelimit.ts";
import { buildRouter } from "./routes.ts";

export const API_PREFIX = "/api/v10";
const MAX_RECORDED = 5000;

interface InjectedFailure {
  remaining: number;
  status: number;
  match: RegExp | undefined;
  retryAfterSeconds: number;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  bucket?: BucketState;
}

export class RestApi {
  private readonly router = buildRouter();
  private readonly limiter: RateLimiter;
  private readonly recorded: RecordedRequest[] = [];
  private readonly failures: InjectedFailure[] = [];
  private readonly lostAnswers: Omit<InjectedFailure, "retryAfterSeconds">[] = [];
  down = false;

  constructor(
    private readonly env: RestEnvironment,
    private readonly botToken: string,
    rateLimits: Partial<RateLimitConfig> = {},
  ) {
    this.limiter = new RateLimiter(rateLimits);
  }

  setRateLimits(limits: Partial<RateLimitConfig>): void {
    this.limiter.set(limits);
  }

  get rateLimits(): RateLimitConfig {
    return this.limiter.limits;
  }

  failNext(count: number, status: number, match?: RegExp, retryAfterSeconds = 1): void {
    this.failures.push({ remaining: count, status, match, retryAfterSeconds });
  }

  /** The next `count` matching requests are applied, then answered `status` (0: the connection is dropped unanswered). */
  failAfterApplying(count: number, status: number, match?: RegExp): void {
    this.lostAnswers.push({ remaining: count, status, match });
  }

  requests(): RecordedRequest[] {
    return this.recorded.map((r) => ({ ...r }));
  }

  clearRequests(): void {
    this.recorded.length = 0;
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const at = Date.now();
    const raw = await readBody(req);
    const path = url.pathname;
    const method = req.method ?? "GET";
    const reasonHeader = req.headers["x-audit-log-reason"];
    const record: RecordedRequest = {
      method,
      path,
      query: url.search.replace(/^\?/, ""),
      body: parseForRecord(raw),
      auditLogReason: typeof reasonHeader === "string" ? safeDecode(reasonHeader) : null,
      status: 0,
      at,
      bucket: null,
    };
    const apiPath = path.slice(API_PREFIX.length);
    let reply = this.route(req, method, apiPath, url.searchParams, raw);
    // Discord's edge can fail after the API made the change: the caller cannot tell it happened.
    const lost = reply.status < 300 ? take(this.lostAnswers, `${method} ${apiPath}`) : undefined;
    if (lost) reply = lost.status === 0 ? { status: 0 } : httpError(lost.status);
    record.status = reply.status;
    record.bucket = reply.bucket?.bucket ?? null;
    this.recorded.push(record);
    if (this.recorded.length > MAX_RECORDED) this.recorded.shift();
    if (reply.status === 0) res.socket?.destroy();
    else send(res, reply);
  }

  private route(req: IncomingMessage, method: string, path: string, query: URLSearchParams, raw: Buffer | null): Reply {
    if (this.down) return httpError(503);
    const lookup = this.router.match(method, path);
    if (!lookup.found) return httpError(lookup.pathExists ? 405 : 404);
    const { handler: route, key, params, majorParameter } = lookup.found;

    if (route.auth) {
      if (req.headers.authorization !== `Bot ${this.botToken}`) return httpError(401);
      const globalWaitMs = this.limiter.takeGlobal();
      if (globalWaitMs !== null) return rateLimited(globalWaitMs, "global");
    }

    const failure = take(this.failures, `${method} ${path}`);
    if (failure) return injected(failure, key);

    const verdict = this.limiter.takeRoute(key, majorParameter);
    if (!verdict.ok) return { ...rateLimited(verdict.retryAfterMs, "user"), bucket: verdict.state };

    let body: unknown;
    if (raw) {
      const contentType = req.headers["content-type"] ?? "";
      if (!contentType.startsWith("application/json")) {
        return {
          status: 400,
          bucket: verdict.state,
          body: {
            code: RESTJSONErrorCodes.InvalidFormBodyOrContentType,
            message: "Invalid Form Body",
            errors: {
              _errors: [
                {
                  code: "CONTENT_TYPE_INVALID",
                  message: "Expected \"Content-Type\" header to be one of {'application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'}.",
                },
              ],
            },
          },
        };
      }
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        return {
          status: 400,
          bucket: verdict.state,
          body: { code: RESTJSONErrorCodes.RequestBodyContainsInvalidJSON, message: "The request body contains invalid JSON." },
        };
      }
    }

    try {
      const result = route.handler({ params, query, body, env: this.env });
      return { status: result.status, body: result.body, bucket: verdict.state };
    } catch (error) {
      if (error instanceof SimulatedApiError) return { status: error.status, body: error.toJSON(), bucket: verdict.state };
      return { ...httpError(500), bucket: verdict.state };
    }
  }
}

/** Discord's generic HTTP errors: {"message": "401: Unauthorized", "code": 0}. */
function httpError(status: number): Reply {
  return { status, body: { message: `${status}: ${STATUS_CODES[status] ?? "Error"}`, code: RESTJSONErrorCodes.GeneralError } };
}

function rateLimited(waitMs: number, scope: "global" | "user" | "shared"): Reply {
  const retryAfter = Math.max(0.001, waitMs / 1000);
  const global = scope === "global";
  return {
    status: 429,
    body: {
      message: scope === "shared" ? "The resource is being rate limited." : "You are being rate limited.",
      retry_after: Number(retryAfter.toFixed(3)),
      global,
    },
    headers: {
      "Retry-After": String(Math.ceil(retryAfter)),
      "X-RateLimit-Scope": scope,
      ...(global && { "X-RateLimit-Global": "true" }),
    },
  };
}

/** failNext: a 429 is a `shared` resource limit (it does not count as the bot's fault); other statuses are generic errors. */
/** The first queued fault matching `METHOD /path`, used up once its count runs out. */
function take<T extends { remaining: number; match: RegExp | undefined }>(queue: T[], target: string): T | undefined {
  const fault = queue.find((f) => !f.match || f.match.test(target));
  if (fault && --fault.remaining <= 0) queue.splice(queue.indexOf(fault), 1);
  return fault;
}

function injected(failure: InjectedFailure, routeKey: string): Reply {
  if (failure.status !== 429) return httpError(failure.status);
  const reply = rateLimited(failure.retryAfterSeconds * 1000, "shared");
  return { ...reply, headers: { ...reply.headers, "X-RateLimit-Bucket": bucketHash(routeKey) } };
}

function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...(reply.bucket && bucketHeaders(reply.bucket)), ...reply.headers };
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers).end();
    return;
  }
  const json = JSON.stringify(reply.body);
  res.writeHead(reply.status, { ...headers, "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(json)) }).end(json);
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  return body.length === 0 ? null : body;
}

function parseForRecord(raw: Buffer | null): unknown {
  if (!raw) return null;
  const text = raw.toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
