/**
 * The one small interface every feature of the GuildHub implements. A module says what it
 * handles (internal events, client messages, reactions to published events, deadlines, closed
 * subscribers); the GuildHub shell routes to it. Adding a feature is adding a module, not editing
 * the shell.
 */
import type { ClientMessage, ClientMessageType, EventName, EventPayload, InternalEvent, InternalEventName } from "@spell-coven/common";
import type { Subscriber } from "./fanout/subscribers.ts";

/**
 * A public event before it is sequenced: what a module yields. `traceId` (W3C) names what caused
 * it; left out, an event yielded for an internal event takes that event's trace id. `audience`
 * addresses it to these players only (a private table's chat); left out, it is for everyone.
 * Either way it takes a seq: the others get a skip frame for it.
 */
export type PublicEvent = {
  [E in EventName]: { event: E; payload: EventPayload<E>; traceId?: string | undefined; audience?: readonly string[] | undefined };
}[EventName];

/** Applies one internal event (already deduplicated) and returns the public events it yields. */
export type InternalEventHandler<E extends InternalEventName> = (event: InternalEvent<E>, now: number) => PublicEvent[];

/** What a client message handler gets: the socket, its subscriber state, and the parsed message. */
export interface ClientMessageContext<T extends ClientMessageType> {
  ws: WebSocket;
  subscriber: Subscriber;
  message: ClientMessage<T>;
  now: number;
}
export type ClientMessageHandler<T extends ClientMessageType> = (ctx: ClientMessageContext<T>) => void | Promise<void>;

export interface HubModule {
  /** For logs and errors. */
  readonly name: string;
  /** Internal events this module applies, in the order modules are listed when several apply one. */
  readonly internalEvents?: { readonly [E in InternalEventName]?: InternalEventHandler<E> };
  /** Client messages this module answers, by `type` (each type has exactly one handler). */
  readonly clientMessages?: { readonly [T in ClientMessageType]?: ClientMessageHandler<T> };
  /**
   * Reacts to a public event another module yielded, with events of its own that follow it
   * directly (rooms: a voice join keeps the room alive and may cancel its closing warning).
   */
  onPublished?(event: PublicEvent, now: number): PublicEvent[];
  /** The earliest time this module needs the alarm, or null. */
  nextDeadline?(now: number): number | null;
  /** The alarm fired: do what is due. */
  onDeadline?(now: number): void | Promise<void>;
  /** A subscriber's socket closed or failed (it is already out of the registry). */
  onSubscriberClosed?(subscriber: Subscriber, ws: WebSocket): void;
}
