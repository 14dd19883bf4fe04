import { app } from "./app.ts";

export { GuildHub } from "./hub/GuildHub.ts";
export { DiscordRateLimiter } from "./ratelimit/DiscordRateLimiter.ts";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<import("./env.ts").Env>;
