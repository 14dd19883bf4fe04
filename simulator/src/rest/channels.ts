/** Channel routes: get, delete, messages, reactions, typing. */
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import { DiscordApiError, invalidField } from "../errors.ts";
import { noContent, objectBody, ok, type RouteContext, type RouteResult } from "./context.ts";

export function getChannel({ params, env }: RouteContext): RouteResult {
  return ok(env.world.channel(params.channel_id!));
}

export function deleteChannel({ params, env }: RouteContext): RouteResult {
  return ok(env.world.deleteChannel(params.channel_id!));
}

export function createMessage({ params, body, env }: RouteContext): RouteResult {
  const channelId = params.channel_id!;
  env.world.channel(channelId); // Unknown Channel before body errors
  const { content } = objectBody(body);
  if (content != null && typeof content !== "string") throw invalidField(["content"], "BASE_TYPE_STRING", "Must be a string.");
  if (!content) throw new DiscordApiError(400, RESTJSONErrorCodes.CannotSendAnEmptyMessage, "Cannot send an empty message");
  if (content.length > 2000) throw invalidField(["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.");
  return ok(env.world.postMessage(channelId, env.world.bot.id, content));
}

export function addOwnReaction({ params, env }: RouteContext): RouteResult {
  env.world.addReaction(params.channel_id!, params.message_id!, params.emoji!, env.world.bot.id);
  return noContent;
}

export function triggerTyping({ params, env }: RouteContext): RouteResult {
  env.world.channel(params.channel_id!);
  return noContent;
}
