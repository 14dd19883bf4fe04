/**
 * Signing in on the lobby page. In the local run the identity provider is the Discord simulator:
 * the page lists its users and asks it for a token (and a fresh one when the server says the
 * token expired). Elsewhere a token is pasted, or handed over by the embedding app. The session
 * lives in sessionStorage: a reload keeps it, a new tab signs in afresh.
 */

const KEY = "spell-coven.session";

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

export async function listSimUsers(simUrl: string): Promise<SimUser[]> {
  const res = await fetch(`${simUrl}/control/users`);
  if (!res.ok) throw new Error(`The simulator answered ${res.status}.`);
  const users = (await res.json()) as unknown;
  if (!Array.isArray(users)) throw new Error("The simulator's user list is not a list.");
  return users.filter((u): u is SimUser => typeof u?.id === "string" && typeof u?.username === "string").map((u) => ({ id: u.id, username: u.username }));
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
