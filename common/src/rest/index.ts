/**
 * Discord REST for the Worker and the Node sidecars:
 *   import { DiscordRestClient } from "@spell-coven/common/rest";
 */
export * from "./client.ts";
export * from "./errors.ts";
export * from "./coordinator.ts";
export { RateLimitState } from "./state.ts";
export { routeKey, keyString } from "./routes.ts";
export { HttpCoordinator, coordinatorHandler } from "./http-coordinator.ts";
