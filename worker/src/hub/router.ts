/**
 * Routes client messages to the module that handles their `type`, through a table built once
 * from the modules (two modules claiming one type is a startup error, not a silent override).
 *
 * Before auth, anything but a valid auth message closes the socket (4002); after it, a bad
 * message is answered with an error ack and the socket stays open. Acks, most of what clients
 * send, take a parse-free fast path.
 */
import { ClientMessage, CloseCodes, MAX_CLIENT_MESSAGE_BYTES, type ClientMessageType } from "@spell-coven/common";
import type { Fanout } from "./fanout/fanout.ts";
import { ACK_FAST } from "./fanout/frames.ts";
import type { Subscriber, SubscriberRegistry } from "./fanout/subscribers.ts";
import type { ClientMessageContext, ClientMessageHandler, HubModule } from "./hub-module.ts";

type AnyHandler = (ctx: ClientMessageContext<ClientMessageType>) => void | Promise<void>;

export class ClientMessageRouter {
  private readonly handlers = new Map<ClientMessageType, AnyHandler>();

  constructor(
    modules: readonly HubModule[],
    private readonly subscribers: SubscriberRegistry,
    private readonly fanout: Fanout,
    /** The hub's current seq: acks beyond it are ignored. */
    private readonly seq: () => number,
  ) {
    const builtIn: Partial<Record<ClientMessageType, AnyHandler>> = { ack: ({ ws, message }) => this.ack(ws, (message as ClientMessage<"ack">).seq) };
    for (const [type, handler] of Object.entries(builtIn)) this.handlers.set(type as ClientMessageType, handler);
    for (const module of modules) {
      for (const [type, handler] of Object.entries(module.clientMessages ?? {}) as [ClientMessageType, ClientMessageHandler<ClientMessageType>][]) {
        if (this.handlers.has(type)) throw new Error(`Client message "${type}" is handled twice (module ${module.name}).`);
        this.handlers.set(type, handler as AnyHandler);
      }
    }
  }

  async route(ws: WebSocket, subscriber: Subscriber, message: string | ArrayBuffer): Promise<void> {
    const fast = subscriber.userId && typeof message === "string" ? ACK_FAST.exec(message) : null;
    if (fast) return this.ack(ws, Number(fast[1]));
    if (typeof message !== "string" || message.length > MAX_CLIENT_MESSAGE_BYTES) {
      return this.violation(ws, subscriber, `Messages must be JSON text under ${MAX_CLIENT_MESSAGE_BYTES / 1024} KB.`);
    }
    let json: unknown;
    try {
      json = JSON.parse(message);
    } catch {
      return this.violation(ws, subscriber, "Message is not valid JSON.");
    }
    const parsed = ClientMessage.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.violation(ws, subscriber, `Invalid message: ${issue?.path.join(".") || "type"}: ${issue?.message}`);
    }
    const msg = parsed.data;
    if (!subscriber.userId && msg.type !== "auth") return this.violation(ws, subscriber, 'The first message must be {"type":"auth","token":"..."}.');
    const handler = this.handlers.get(msg.type);
    if (!handler) return this.fanout.error(ws, "UNSUPPORTED_MESSAGE", `This server does not handle "${msg.type}" messages.`);
    await handler({ ws, subscriber, message: msg, now: Date.now() });
  }

  private ack(ws: WebSocket, seq: number): void {
    if (seq <= this.seq()) this.subscribers.ack(ws, seq, Date.now());
  }

  /** Before auth a bad message closes the socket; after auth it is answered and ignored. */
  private violation(ws: WebSocket, subscriber: Subscriber, message: string): void {
    if (subscriber.userId) this.fanout.error(ws, "BAD_MESSAGE", message);
    else this.fanout.close(ws, CloseCodes.ProtocolError, message);
  }
}
