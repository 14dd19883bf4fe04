/** The REST subset the project calls, as route templates (paths below /api/v10). */
import { Router } from "./router.ts";
import { ok, type RouteHandler } from "./context.ts";
import * as channels from "./channels.ts";
import * as guilds from "./guilds.ts";

export interface RestRoute {
  handler: RouteHandler;
  /** Needs `Authorization: Bot <token>` (and counts against the global limit). */
  auth: boolean;
}

const authed = (handler: RouteHandler): RestRoute => ({ handler, auth: true });

const SESSION_START_RESET_AFTER_MS = 24 * 60 * 60 * 1000;

export function buildRouter(): Router<RestRoute> {
  return new Router<RestRoute>()
    .add("GET", "/gateway", { auth: false, handler: ({ env }) => ok({ url: env.gatewayUrl() }) })
    .add(
      "GET",
      "/gateway/bot",
      authed(({ env }) =>
        ok({
          url: env.gatewayUrl(),
          shards: env.recommendedShards,
          session_start_limit: {
            total: env.sessionStartLimit,
            remaining: env.sessionStartRemaining(),
            reset_after: SESSION_START_RESET_AFTER_MS,
            max_concurrency: env.maxConcurrency,
          },
        }),
      ),
    )
    .add(
      "GET",
      "/users/@me",
      authed(({ env }) => ok(env.world.apiUser(env.world.bot.id))),
    )
    .add("GET", "/guilds/:guild_id/channels", authed(guilds.listChannels))
    .add("POST", "/guilds/:guild_id/channels", authed(guilds.createChannel))
    .add("GET", "/guilds/:guild_id/roles", authed(guilds.listRoles))
    .add("POST", "/guilds/:guild_id/roles", authed(guilds.createRole))
    .add("DELETE", "/guilds/:guild_id/roles/:role_id", authed(guilds.deleteRole))
    .add("PATCH", "/guilds/:guild_id/members/:user_id", authed(guilds.modifyMember))
    .add("PUT", "/guilds/:guild_id/members/:user_id/roles/:role_id", authed(guilds.addMemberRole))
    .add("DELETE", "/guilds/:guild_id/members/:user_id/roles/:role_id", authed(guilds.removeMemberRole))
    .add("GET", "/channels/:channel_id", authed(channels.getChannel))
    .add("DELETE", "/channels/:channel_id", authed(channels.deleteChannel))
    .add("GET", "/channels/:channel_id/messages", authed(channels.getMessages))
    .add("POST", "/channels/:channel_id/messages", authed(channels.createMessage))
    .add("POST", "/channels/:channel_id/messages/bulk-delete", authed(channels.bulkDelete))
    .add("PATCH", "/channels/:channel_id/messages/:message_id", authed(channels.editMessage))
    .add("DELETE", "/channels/:channel_id/messages/:message_id", authed(channels.deleteMessage))
    .add("PUT", "/channels/:channel_id/messages/:message_id/reactions/:emoji/@me", authed(channels.addOwnReaction))
    .add("DELETE", "/channels/:channel_id/messages/:message_id/reactions/:emoji/@me", authed(channels.removeOwnReaction))
    .add("POST", "/channels/:channel_id/typing", authed(channels.triggerTyping));
}
