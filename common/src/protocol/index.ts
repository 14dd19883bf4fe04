/**
 * The wire protocol, one zod schema per message: public events, internal posts, client
 * messages, server messages (envelopes, acks, signals), close codes and the rooms API.
 */
export * from "./events.ts";
export * from "./internal.ts";
export * from "./client-messages.ts";
export * from "./server-messages.ts";
export * from "./signals.ts";
export * from "./close-codes.ts";
export * from "./rooms-api.ts";
export * from "./rtc-api.ts";
export * from "./stream.ts";
export * from "./chat.ts";
export * from "./voice-link.ts";
export * from "./chat-message.ts";
