/** Helpers for the Worker tests (they run inside workerd, next to the Worker). */
import { env, exports } from "cloudflare:workers";
import { inject } from "vitest";
import { importJWK, SignJWT, generateKeyPair, type JWTPayload } from "jose";
import { signHubRequest, type InternalEvent } from "@spell-coven/common";

export const GUILD_ID = inject("guildId");
export const OTHER_GUILD_ID = inject("otherGuildId");
export const ORIGIN = "https://play.spellcoven.test";

export const worker = (exports as unknown as { default: unknown }).default as { fetch(input: RequestInfo, init?: RequestInit): Promise<Response> };

export function request(path: string, init?: RequestInit): Promise<Response> {
  return worker.fetch(new Request(`https://edge.test${path}`, init));
}

// ---- tokens ----------------------------------------------------------------------------------

let privateKey: CryptoKey | undefined;

/** A token as the real identity provider would sign it, with claims overridable. */
export async function mintToken(sub = "200000000000000001", claims: JWTPayload & { expiresIn?: string | number } = {}): Promise<string> {
  privateKey ??= (await importJWK(inject("privateJwk") as any, "RS256")) as CryptoKey;
  const { expiresIn = "10m", ...rest } = claims;
  return new SignJWT({ name: "Alice", ...rest })
    .setProtectedHeader({ alg: "RS256", kid: "test-key-1" })
    .setSubject(sub)
    .setIssuer((rest.iss as string) ?? env.JWT_ISSUER)
    .setAudience((rest.aud as string) ?? env.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(privateKey);
}

/** A well-formed token signed by a key the identity provider never published. */
export async function mintWithUnknownKey(sub = "200000000000000001"): Promise<string> {
  const { privateKey: other } = await generateKeyPair("RS256");
  return new SignJWT({})
    .setProtectedHeader({ alg: "RS256", kid: "test-key-1" })
    .setSubject(sub)
    .setIssuer(env.JWT_ISSUER)
    .setAudience(env.JWT_AUDIENCE)
    .setExpirationTime("10m")
    .sign(other);
}

const b64url = (s: string | Uint8Array) =>
  btoa(typeof s === "string" ? s : String.fromCharCode(...s))
    .replace(/=+$/, "")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");

function claims(sub: string) {
  return { sub, iss: env.JWT_ISSUER, aud: env.JWT_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 };
}

/** The classic `alg: none` forgery. */
export function mintAlgNone(sub = "200000000000000001"): string {
  return `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(claims(sub)))}.`;
}

/** The key-confusion forgery: HS256 with the published RSA public key as the HMAC secret. */
export async function mintHs256WithPublicKey(sub = "200000000000000001"): Promise<string> {
  const secret = new TextEncoder().encode(JSON.stringify(inject("publicJwk")));
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const input = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT", kid: "test-key-1" }))}.${b64url(JSON.stringify(claims(sub)))}`;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)));
  return `${input}.${b64url(mac)}`;
}

// ---- internal events -------------------------------------------------------------------------

let counter = 0;
export const uniqueId = (prefix = "t") => `${prefix}:${Date.now()}:${++counter}:${Math.random().toString(36).slice(2, 8)}`;

export function voiceJoined(userId: string, channelId: string, guildId = GUILD_ID): InternalEvent {
  return { id: uniqueId("v"), guildId, event: "voice.joined", payload: { guildId, channelId, userId } };
}
export function voiceLeft(userId: string, channelId: string | null, guildId = GUILD_ID): InternalEvent {
  return { id: uniqueId("v"), guildId, event: "voice.left", payload: { guildId, channelId, userId } };
}

export async function postEvents(events: InternalEvent[] | unknown, opts: { secret?: string; nowSeconds?: number; headers?: Record<string, string> } = {}) {
  const body = JSON.stringify(Array.isArray(events) ? { events } : events);
  return postSigned(body, opts);
}

export async function postSigned(body: string, opts: { secret?: string; nowSeconds?: number; headers?: Record<string, string>; path?: string } = {}) {
  const signed = await signHubRequest(opts.secret ?? env.HUB_SECRET!, body, opts.nowSeconds);
  return request(opts.path ?? "/api/internal/events", { method: "POST", body, headers: { "Content-Type": "application/json", ...signed, ...opts.headers } });
}

// ---- WebSocket clients -----------------------------------------------------------------------

export interface TestSocket {
  ws: WebSocket;
  /** Every message received so far, parsed. */
  messages: any[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first message (from now on, or already received after `from`) matching. */
  next(match: (m: any) => boolean, timeoutMs?: number): Promise<any>;
  send(data: unknown): void;
}

export async function openSocket(opts: { guildId?: string; origin?: string } = {}): Promise<TestSocket> {
  const qs = opts.guildId ? `?guildId=${opts.guildId}` : "";
  const res = await request(`/api/ws${qs}`, { headers: { Upgrade: "websocket", ...(opts.origin ? { Origin: opts.origin } : {}) } });
  if (res.status !== 101 || !res.webSocket) throw new Error(`upgrade failed: ${res.status} ${await res.text()}`);
  const ws = res.webSocket;
  ws.accept();
  const messages: any[] = [];
  const waiters: { match: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  ws.addEventListener("message", (e) => {
    const m = JSON.parse(e.data as string);
    messages.push(m);
    for (const w of [...waiters])
      if (w.match(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })));
  return {
    ws,
    messages,
    closed,
    send: (data) => ws.send(typeof data === "string" ? data : JSON.stringify(data)),
    next(match, timeoutMs = 5_000) {
      const found = messages.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages).slice(0, 500)}`)), timeoutMs);
        waiters.push({ match, resolve: (m) => (clearTimeout(t), resolve(m)) });
      });
    },
  };
}

/** Opens a socket and authenticates it; returns it with its auth.ok. */
export async function connect(opts: { userId?: string; resume?: { seq: number; epoch?: string }; guildId?: string; token?: string; batch?: boolean } = {}) {
  const sock = await openSocket(opts);
  sock.send({
    type: "auth",
    token: opts.token ?? (await mintToken(opts.userId)),
    ...(opts.resume ? { resume: opts.resume } : {}),
    ...(opts.batch ? { batch: true } : {}),
  });
  const ok = await sock.next((m) => m.event === "auth.ok" || m.event === "error");
  return { ...sock, ok };
}

export const events = (s: TestSocket) => s.messages.filter((m) => m.type === "event");

/** Polls `probe` until `ok` holds (every 25 ms, for at most `ms`); the error says what was awaited and what was seen. */
export async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A `message.created` payload as gateway-node forwards it (someone in Discord; content withheld unless `over` says). */
export const chatMessagePayload = (channelId: string, over: Record<string, unknown> = {}) => ({
  guildId: GUILD_ID,
  channelId,
  messageId: String(BigInt("900000000000000000") + BigInt(Math.floor(Math.random() * 1e9))),
  author: { id: "300000000000000001", username: "bob", displayName: "Bob", avatar: null, bot: false },
  content: "",
  contentAvailable: false,
  timestamp: new Date().toISOString(),
  editedTimestamp: null,
  attachments: 0,
  replyTo: null,
  mentionsEveryone: false,
  nonce: null,
  ...over,
});
