/**
 * `@spell-coven/common`: what the Worker, the sidecars, the simulator and the client library
 * share. The Discord REST client is a separate entry point (`@spell-coven/common/rest`), so
 * browser bundles never reach it.
 */
export * from "./protocol/index.ts";
export * from "./snowflake.ts";
export * from "./hmac.ts";
export * from "./log.ts";
export * from "./backoff.ts";
export * from "./settings.ts";
