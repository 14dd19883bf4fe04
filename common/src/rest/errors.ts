/**
 * Typed errors of DiscordRestClient. Every message is written for a person: what was attempted,
 * what Discord (or the network) answered, and which request it was. None contains the token.
 */

/** One problem with a caller's input, found before any request was made. */
export interface InputIssue {
  /** Dotted path of the offending field, e.g. "name" or "permissionOverwrites.0.id". */
  field: string;
  message: string;
}

/** One field error from Discord's nested `errors` body, flattened. */
export interface DiscordFieldError {
  /** Dotted path mirroring the request body, e.g. "name" or "permission_overwrites.0.id"; "" for the body itself. */
  path: string;
  /** Discord's error code, e.g. "BASE_TYPE_MAX_LENGTH". */
  code: string;
  message: string;
}

export interface RequestContext {
  method: string;
  /** Route template with ids replaced, e.g. "/guilds/:id/channels" (never contains a token). */
  route: string;
  /** Our id for the call, present in every log line of it. */
  requestId: string;
  /** Attempts made (1 = no retry). */
  attempts: number;
}

/** Base class: every error thrown by the REST client is an instance of DiscordRestError. */
export class DiscordRestError extends Error {
  override name = "DiscordRestError";
}

/** A caller's input failed validation; no request was sent. */
export class DiscordInputError extends DiscordRestError {
  override name = "DiscordInputError";
  constructor(
    readonly operation: string,
    readonly issues: InputIssue[],
  ) {
    super(`Invalid input for ${operation}: ${issues.map((i) => `${i.field || "(input)"}: ${i.message}`).join("; ")}. Nothing was sent to Discord.`);
  }
}

/** Discord answered with an HTTP error (4xx, or 5xx after every retry). */
export class DiscordApiError extends DiscordRestError {
  override name = "DiscordApiError";
  readonly status: number;
  /** Discord's JSON error code (e.g. 50035, 10003); 0 when the body had none. */
  readonly code: number;
  /** Discord's own message, e.g. "Invalid Form Body". */
  readonly discordMessage: string;
  readonly fieldErrors: DiscordFieldError[];
  readonly method: string;
  readonly route: string;
  readonly requestId: string;
  /** Discord's / Cloudflare's id for the response (x-request-id or cf-ray), when present. */
  readonly discordRequestId: string | null;
  readonly attempts: number;
  readonly body: unknown;

  constructor(ctx: RequestContext & { status: number; body: unknown; discordRequestId: string | null }) {
    const b = (typeof ctx.body === "object" && ctx.body !== null ? ctx.body : {}) as { code?: unknown; message?: unknown; errors?: unknown };
    const code = typeof b.code === "number" ? b.code : 0;
    const discordMessage = typeof b.message === "string" ? b.message : typeof ctx.body === "string" && ctx.body ? ctx.body.slice(0, 200) : "";
    const fieldErrors = flattenDiscordErrors(b.errors);
    const what = describeStatus(ctx.status);
    const parts = [
      `Discord ${what} ${ctx.method} ${ctx.route} with HTTP ${ctx.status}`,
      code || discordMessage ? ` (${[code ? `code ${code}` : "", discordMessage].filter(Boolean).join(" ")})` : "",
      fieldErrors.length ? `: ${fieldErrors.map((f) => `${f.path || "(body)"}: ${f.message} [${f.code}]`).join("; ")}` : "",
      ctx.attempts > 1 ? ` after ${ctx.attempts} attempts` : "",
      `. Request id ${ctx.requestId}${ctx.discordRequestId ? `, Discord request id ${ctx.discordRequestId}` : ""}.`,
    ];
    super(parts.join(""));
    this.status = ctx.status;
    this.code = code;
    this.discordMessage = discordMessage;
    this.fieldErrors = fieldErrors;
    this.method = ctx.method;
    this.route = ctx.route;
    this.requestId = ctx.requestId;
    this.discordRequestId = ctx.discordRequestId;
    this.attempts = ctx.attempts;
    this.body = ctx.body;
  }
}

/** The request never got an HTTP answer (connection error or timeout), on every attempt. */
export class DiscordNetworkError extends DiscordRestError {
  override name = "DiscordNetworkError";
  readonly method: string;
  readonly route: string;
  readonly requestId: string;
  readonly attempts: number;
  readonly timedOut: boolean;
  constructor(ctx: RequestContext & { timedOut: boolean; timeoutMs: number; cause: unknown }) {
    const why = ctx.timedOut ? `no answer within ${ctx.timeoutMs} ms` : `network error (${errorText(ctx.cause)})`;
    super(
      `Could not reach Discord for ${ctx.method} ${ctx.route}: ${why}, ${ctx.attempts} attempt${ctx.attempts === 1 ? "" : "s"} made. Request id ${ctx.requestId}.`,
      {
        cause: ctx.cause,
      },
    );
    this.method = ctx.method;
    this.route = ctx.route;
    this.requestId = ctx.requestId;
    this.attempts = ctx.attempts;
    this.timedOut = ctx.timedOut;
  }
}

/**
 * The call was not sent (or not retried) because of a rate limit: the wait Discord asks for is
 * longer than the client's `maxRateLimitWaitMs`, or Discord kept answering 429.
 */
export class DiscordRateLimitError extends DiscordRestError {
  override name = "DiscordRateLimitError";
  readonly method: string;
  readonly route: string;
  readonly requestId: string;
  /** How long the limit still lasts, in ms. */
  readonly retryAfterMs: number;
  readonly scope: string;
  readonly attempts: number;
  constructor(ctx: RequestContext & { retryAfterMs: number; scope: string; reason: string }) {
    super(
      `Rate limited on ${ctx.method} ${ctx.route} (${ctx.scope}): ${ctx.reason}; the limit lifts in ${Math.ceil(ctx.retryAfterMs)} ms. Request id ${ctx.requestId}.`,
    );
    this.method = ctx.method;
    this.route = ctx.route;
    this.requestId = ctx.requestId;
    this.retryAfterMs = ctx.retryAfterMs;
    this.scope = ctx.scope;
    this.attempts = ctx.attempts;
  }
}

/**
 * The client refuses to send because the bot is close to Discord's invalid-request limit
 * (10,000 responses with 401/403/429 per 10 minutes get the IP banned by Cloudflare).
 */
export class DiscordInvalidRequestLimitError extends DiscordRestError {
  override name = "DiscordInvalidRequestLimitError";
  constructor(
    readonly method: string,
    readonly route: string,
    readonly requestId: string,
    readonly invalidRequests: number,
    readonly threshold: number,
    readonly retryAfterMs: number,
  ) {
    super(
      `Not sending ${method} ${route}: ${invalidRequests} invalid requests (401/403/429) in the last 10 minutes reached the safety threshold of ${threshold}, ` +
        `close to Discord's limit of 10,000 that bans the IP. Fix the failing calls (bad token? missing permissions?); sending resumes in about ${Math.ceil(retryAfterMs / 1000)} s. Request id ${requestId}.`,
    );
  }
}

/** Flattens Discord's nested `errors` object: `{ name: { _errors: [{code, message}] } }` -> `[{ path: "name", ... }]`. */
export function flattenDiscordErrors(errors: unknown, path = ""): DiscordFieldError[] {
  if (typeof errors !== "object" || errors === null) return [];
  const out: DiscordFieldError[] = [];
  for (const [key, value] of Object.entries(errors)) {
    if (key === "_errors" && Array.isArray(value)) {
      for (const e of value) {
        const err = (typeof e === "object" && e !== null ? e : {}) as { code?: unknown; message?: unknown };
        out.push({ path, code: String(err.code ?? "UNKNOWN"), message: String(err.message ?? "invalid") });
      }
    } else {
      out.push(...flattenDiscordErrors(value, path ? `${path}.${key}` : key));
    }
  }
  return out;
}

function describeStatus(status: number): string {
  if (status === 400) return "rejected";
  if (status === 401) return "refused the bot token for";
  if (status === 403) return "denied permission for";
  if (status === 404) return "found nothing for";
  if (status === 429) return "rate limited";
  if (status >= 500) return "failed (server error) on";
  return "rejected";
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code ?? (err.cause as { code?: unknown } | undefined)?.code;
    return `${err.name}: ${err.message}${code ? ` [${String(code)}]` : ""}`;
  }
  return String(err);
}
