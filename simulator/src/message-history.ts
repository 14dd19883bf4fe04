/**
 * Get Channel Messages (`GET /channels/{channel.id}/messages`) as Discord documents it
 * (docs: resources/message, "Get Channel Messages"):
 *
 * - `limit` 1-100, default 50; `around`, `before`, `after` are mutually exclusive (the docs say
 *   only one may be passed; the simulator answers 50035 when more are, so a client that breaks the
 *   rule notices); the answer is newest first.
 * - The bot needs VIEW_CHANNEL (and CONNECT in a voice channel), else 403 Missing Access (50001).
 *   Without READ_MESSAGE_HISTORY Discord answers 200 with no messages, not an error.
 */
import { ChannelType, PermissionFlagsBits, RESTJSONErrorCodes } from "discord-api-types/v10";
import { SimulatedApiError, FormErrors } from "./errors.ts";

export type HistoryAnchor = { kind: "latest" } | { kind: "before" | "after" | "around"; id: string };

export interface HistoryQuery {
  limit: number;
  anchor: HistoryAnchor;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;
const ANCHORS = ["around", "before", "after"] as const;

/** Reads the query string the way Discord validates it: 50035 with a form error per bad parameter. */
export function parseHistoryQuery(query: URLSearchParams): HistoryQuery {
  const form = new FormErrors();
  let limit = DEFAULT_LIMIT;
  const rawLimit = query.get("limit");
  if (rawLimit !== null) {
    const n = /^-?\d+$/.test(rawLimit.trim()) ? Number(rawLimit) : Number.NaN;
    if (Number.isNaN(n)) form.add(["limit"], "NUMBER_TYPE_COERCE", `Value "${rawLimit}" is not int.`);
    else if (n < 1) form.add(["limit"], "NUMBER_TYPE_MIN", "int value should be greater than or equal to 1.");
    else if (n > MAX_LIMIT) form.add(["limit"], "NUMBER_TYPE_MAX", `int value should be less than or equal to ${MAX_LIMIT}.`);
    else limit = n;
  }
  const given = ANCHORS.filter((k) => query.has(k));
  for (const k of given) {
    const v = query.get(k)!;
    if (!/^\d{1,20}$/.test(v) || BigInt(v) >= 1n << 64n) form.add([k], "NUMBER_TYPE_COERCE", `Value "${v}" is not snowflake.`);
  }
  for (const k of given.slice(1)) form.add([k], "BASE_TYPE_BAD_COMBINATION", `Only one of ${ANCHORS.join(", ")} may be passed.`);
  form.throwIfAny();
  const first = given[0];
  return { limit, anchor: first ? { kind: first, id: query.get(first)! } : { kind: "latest" } };
}

/** Throws 403 Missing Access when the bot may not open the channel; false when it may not read its history. */
export function mayReadHistory(channelType: ChannelType, denied: bigint): boolean {
  const needed = PermissionFlagsBits.ViewChannel | (channelType === ChannelType.GuildVoice ? PermissionFlagsBits.Connect : 0n);
  if (denied & needed) throw new SimulatedApiError(403, RESTJSONErrorCodes.MissingAccess, "Missing Access");
  return (denied & PermissionFlagsBits.ReadMessageHistory) === 0n;
}

/** The page of `messages` (any order) that `query` asks for, newest first. */
export function historyPage<T extends { id: string }>(messages: T[], query: HistoryQuery): T[] {
  const oldestFirst = [...messages].sort((a, b) => compareIds(a.id, b.id));
  const { limit, anchor } = query;
  let page: T[];
  if (anchor.kind === "latest") page = oldestFirst.slice(-limit);
  else if (anchor.kind === "before") page = oldestFirst.filter((m) => compareIds(m.id, anchor.id) < 0).slice(-limit);
  else if (anchor.kind === "after") page = oldestFirst.filter((m) => compareIds(m.id, anchor.id) > 0).slice(0, limit);
  else {
    // Around: the anchor (when it exists) and the messages just before it, with up to half the
    // page after it, as Discord splits the limit.
    const newer = oldestFirst.filter((m) => compareIds(m.id, anchor.id) > 0).slice(0, Math.floor(limit / 2));
    const older = oldestFirst.filter((m) => compareIds(m.id, anchor.id) <= 0).slice(-(limit - newer.length));
    page = [...older, ...newer];
  }
  return page.reverse();
}

function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
