export * from "./events.ts";
export * from "./internal.ts";
export * from "./envelope.ts";
export * from "./hmac.ts";
export * from "./log.ts";
export * from "./backoff.ts";
export * from "./rooms.ts";
export * from "./snowflake.ts";
