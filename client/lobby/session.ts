/**
 * Signing in on the lobby page. In the local run the identity provider is the Discord simulator:
 * the page lists its users and asks it for a token (and a fresh one when the server says the
 * token expired). Elsewhere a token is pasted, or handed over by the embedding app.
 *
 * Where the simulator is: `?sim=<url>` (tests), else what `GET /api/session-config` says
 * (`{ "simulatorUrl": "http://..." | null }`), else the `npm start` default.
 */

export const DEFAULT_SIMULATOR_URL = "http://127.0.0.1:8790";
const KEY = "spell-coven.session";
const SIM_KEY = "spell-coven.simulator";

export interface SimUser {
  id: string;
  username: string;
}

export interface Session {
  token: string;
  /** Set when signed in through the simulator: a fresh token can be minted. */
  simUserId: string | null;
  username: string | null;
}

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return typeof s.token === "string" && s.token ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  try {
    if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
    else sessionStorage.removeItem(KEY);
  } catch {
    // storage disabled: the session lasts as long as the page
  }
}

export interface LobbyConfig {
  /** The development identity provider (the simulator), or null with a real identity provider. */
  simUrl: string | null;
  /** From the Worker's MAX_WS_RECONNECT_ATTEMPTS, when it says. */
  maxReconnectAttempts: number | null;
  guildId: string | null;
}

/**
 * What the page needs to start: `?sim=<url>` (remembered for the tab) wins, then the Worker's
 * `GET /api/session-config` (`{ guildId, maxReconnectAttempts, devIdentityUrl }`), then the
 * `npm start` default simulator.
 */
export async function resolveConfig(): Promise<LobbyConfig> {
  const cfg: LobbyConfig = { simUrl: DEFAULT_SIMULATOR_URL, maxReconnectAttempts: null, guildId: null };
  let served = false;
  try {
    const res = await fetch("/api/session-config", { headers: { Accept: "application/json" } });
    if (res.ok) {
      const body = (await res.json()) as { devIdentityUrl?: unknown; simulatorUrl?: unknown; maxReconnectAttempts?: unknown; guildId?: unknown };
      served = true;
      const dev = body.devIdentityUrl ?? body.simulatorUrl ?? null;
      cfg.simUrl = typeof dev === "string" && /^https?:\/\//.test(dev) ? dev.replace(/\/+$/, "") : null;
      if (typeof body.maxReconnectAttempts === "number" && Number.isInteger(body.maxReconnectAttempts) && body.maxReconnectAttempts >= 0) cfg.maxReconnectAttempts = body.maxReconnectAttempts;
      if (typeof body.guildId === "string" && /^\d{1,20}$/.test(body.guildId)) cfg.guildId = body.guildId;
    }
  } catch {
    // not served: defaults
  }
  const fromQuery = new URLSearchParams(location.search).get("sim");
  if (fromQuery && /^https?:\/\//.test(fromQuery)) {
    try {
      sessionStorage.setItem(SIM_KEY, fromQuery);
    } catch {
      // storage disabled
    }
    cfg.simUrl = fromQuery.replace(/\/+$/, "");
  } else {
    const remembered = safeGet(SIM_KEY);
    if (remembered) cfg.simUrl = remembered;
    else if (!served) cfg.simUrl = DEFAULT_SIMULATOR_URL;
  }
  return cfg;
}

function safeGet(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

export async function listSimUsers(simUrl: string): Promise<SimUser[]> {
  const res = await fetch(`${simUrl}/control/users`);
  if (!res.ok) throw new Error(`The simulator answered ${res.status}.`);
  const users = (await res.json()) as unknown;
  if (!Array.isArray(users)) throw new Error("The simulator's user list is not a list.");
  return users
    .filter((u): u is SimUser => typeof u?.id === "string" && typeof u?.username === "string")
    .map((u) => ({ id: u.id, username: u.username }));
}

export async function mintSimToken(simUrl: string, userId: string): Promise<string> {
  const res = await fetch(`${simUrl}/control/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ userId }),
  });
  const body = (await res.json().catch(() => null)) as { token?: unknown; error?: { message?: string } } | null;
  if (!res.ok || typeof body?.token !== "string") throw new Error(body?.error?.message ?? `The simulator answered ${res.status}.`);
  return body.token;
}

/** Reads `sub` and `exp` from a JWT without verifying it (display only; the server verifies). */
export function peekJwt(token: string): { sub: string | null; exp: number | null; name: string | null } {
  try {
    const part = token.split(".")[1] ?? "";
    const json = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))) as { sub?: unknown; exp?: unknown; name?: unknown; username?: unknown };
    return {
      sub: typeof json.sub === "string" ? json.sub : null,
      exp: typeof json.exp === "number" ? json.exp : null,
      name: typeof json.name === "string" ? json.name : typeof json.username === "string" ? json.username : null,
    };
  } catch {
    return { sub: null, exp: null, name: null };
  }
}
