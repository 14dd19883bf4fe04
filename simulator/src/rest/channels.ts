/** Channel routes: get, delete, messages (history, create, edit, delete), reactions, typing. */
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import { SimulatedApiError, invalidField } from "../errors.ts";
import { parseHistoryQuery } from "../message-history.ts";
import { noContent, objectBody, ok, type RouteContext, type RouteResult } from "./context.ts";

export function getChannel({ params, env }: RouteContext): RouteResult {
  return ok(env.world.channel(params.channel_id!));
}

export function deleteChannel({ params, env }: RouteContext): RouteResult {
  return ok(env.world.deleteChannel(params.channel_id!));
}

/** Get Channel Messages: Unknown Channel first, then the query, then the bot's permissions (world.botHistory). */
export function getMessages({ params, query, env }: RouteContext): RouteResult {
  const channelId = params.channel_id!;
  env.world.channel(channelId);
  return ok(env.world.botHistory(channelId, parseHistoryQuery(query)));
}

/** Discord counts content in code points. */
const MAX_CONTENT = 2000;

function content(body: unknown, required: boolean): string | undefined {
  const { content } = objectBody(body);
  if (content != null && typeof content !== "string") throw invalidField(["content"], "BASE_TYPE_STRING", "Must be a string.");
  if (!content) {
    if (required) throw new SimulatedApiError(400, RESTJSONErrorCodes.CannotSendAnEmptyMessage, "Cannot send an empty message");
    return undefined;
  }
  if ([...content].length > MAX_CONTENT) throw invalidField(["content"], "BASE_TYPE_MAX_LENGTH", `Must be ${MAX_CONTENT} or fewer in length.`);
  return content;
}

export function createMessage({ params, body, env }: RouteContext): RouteResult {
  const channelId = params.channel_id!;
  env.world.channel(channelId); // Unknown Channel before body errors
  const text = content(body, true)!;
  const { nonce, enforce_nonce } = objectBody(body);
  if (nonce !== undefined && !((typeof nonce === "string" && nonce.length <= 25) || (typeof nonce === "number" && Number.isInteger(nonce)))) {
    throw invalidField(["nonce"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
  }
  if (enforce_nonce !== undefined && typeof enforce_nonce !== "boolean")
    throw invalidField(["enforce_nonce"], "BASE_TYPE_BOOLEAN", "Must be either true or false.");
  return ok(
    env.world.postMessage(channelId, env.world.bot.id, text, {
      ...(nonce !== undefined ? { nonce: String(nonce) } : {}),
      enforceNonce: enforce_nonce === true,
    }),
  );
}

export function editMessage({ params, body, env }: RouteContext): RouteResult {
  const text = content(body, true)!;
  return ok(env.world.editMessage(params.channel_id!, params.message_id!, text, env.world.bot.id));
}

export function deleteMessage({ params, env }: RouteContext): RouteResult {
  env.world.deleteMessage(params.channel_id!, params.message_id!);
  return noContent;
}

export function bulkDelete({ params, body, env }: RouteContext): RouteResult {
  const { messages } = objectBody(body);
  if (!Array.isArray(messages) || !messages.every((m) => typeof m === "string"))
    throw invalidField(["messages"], "BASE_TYPE_REQUIRED", "This field is required");
  env.world.bulkDeleteMessages(params.channel_id!, messages as string[]);
  return noContent;
}

export function addOwnReaction({ params, env }: RouteContext): RouteResult {
  env.world.addReaction(params.channel_id!, params.message_id!, params.emoji!, env.world.bot.id);
  return noContent;
}

export function removeOwnReaction({ params, env }: RouteContext): RouteResult {
  env.world.removeReaction(params.channel_id!, params.message_id!, params.emoji!, env.world.bot.id);
  return noContent;
}

export function triggerTyping({ params, env }: RouteContext): RouteResult {
  env.world.startTyping(params.channel_id!, env.world.bot.id);
  return noContent;
}
