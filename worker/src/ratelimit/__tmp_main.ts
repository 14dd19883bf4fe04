export * from "../index.ts";
export { default } from "../index.ts";
export { DiscordRateLimiter } from "./DiscordRateLimiter.ts";
