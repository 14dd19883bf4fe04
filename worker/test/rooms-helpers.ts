/** Helpers for the rooms tests: simulated Discord players, the rooms API as a player, room clocks. */
import { env } from "cloudflare:workers";
import { inject } from "vitest";
import { runInDurableObject } from "cloudflare:test";
import { GUILD_ID, mintToken, request } from "./helpers.ts";

export const control = inject("discordControlUrl");
export const hub = () => env.GUILD_HUB.getByName(GUILD_ID);
let nextUser = 500 + Math.floor(Math.random() * 20_000) * 10;
/**
 * A fresh player per test, a member of the simulated Discord server (roles need membership); the
 * per-user creation limit (3 in tests) never leaks between tests.
 */
export async function newPlayer(): Promise<string> {
  const id = `2000000000000${String(++nextUser).padStart(5, "0")}`;
  await sim("addUser", { id, username: `player${nextUser}` });
  return id;
}

export async function sim(action: string, body: unknown = {}) {
  const res = await fetch(`${control}/${action}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`simulator ${action}: ${res.status} ${await res.text()}`);
  return (await res.json<any>()).result;
}
export const discordRequests = async (): Promise<any[]> => (await fetch(`${control}/requests`)).json();

export async function api(method: string, path: string, as: string, body?: unknown, headers: Record<string, string> = {}, claims = {}) {
  return request(path, {
    method,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${await mintToken(as, claims)}`, ...headers },
  });
}
export const createRoom = (as: string, body: unknown = {}, headers: Record<string, string> = {}) => api("POST", "/api/create-room", as, body, headers);
export const endRoom = (as: string, channelId: string, claims = {}) => api("DELETE", `/api/end-room/${channelId}`, as, undefined, {}, claims);
export const invite = (as: string, channelId: string) => api("POST", `/api/rooms/${channelId}/invites`, as, {});
export const join = (as: string, channelId: string, inviteToken?: string) =>
  api("POST", `/api/rooms/${channelId}/join`, as, inviteToken ? { invite: inviteToken } : {});
export const listRooms = async (as: string) => (await (await api("GET", "/api/rooms", as)).json<any>()).rooms as any[];
export const errorOf = async (res: Response) => (await res.json<any>()).error;

/** Moves a room's clocks back so the alarm finds it idle (or its warning over) without waiting an hour. */
export async function ageRoom(channelId: string, fields: { idleFor?: number; closingAt?: number }) {
  await runInDurableObject(hub(), (_inst, state) => {
    if (fields.idleFor !== undefined)
      state.storage.sql.exec("UPDATE rooms SET last_activity_at = ? WHERE channel_id = ?", Date.now() - fields.idleFor, channelId);
    if (fields.closingAt !== undefined) state.storage.sql.exec("UPDATE rooms SET closing_at = ? WHERE channel_id = ?", fields.closingAt, channelId);
  });
}
export const leave = (as: string, channelId: string) => api("POST", `/api/rooms/${channelId}/leave`, as, {});
