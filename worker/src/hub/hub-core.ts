/**
 * Everything the GuildHub does, without the Durable Object: the shared infrastructure (event
 * log, inbox, subscribers, fan-out, sessions, deadlines, client message routing) and the feature
 * modules on top of it. GuildHub.ts is the platform shell that feeds it.
 *
 * Events flow one way: an internal event (deduplicated by the inbox) goes to every module that
 * handles its name, in module order; each public event a module yields is offered to the other
 * modules' `onPublished`, whose events follow it directly; then each is sequenced (one seq, one
 * serialization) and fanned out.
 */
import type { InternalEvent, InternalEventName, Logger } from "@spell-coven/common";
import type { JwtSettings } from "../auth/jwt.ts";
import { Deadlines, type AlarmStorage } from "./deadlines.ts";
import { EventLog, type SequencedEvent } from "./event-log.ts";
import { Fanout } from "./fanout/fanout.ts";
import { eventFrame } from "./fanout/frames.ts";
import { SubscriberRegistry, type Subscriber } from "./fanout/subscribers.ts";
import type { HubModule, InternalEventHandler, PublicEvent } from "./hub-module.ts";
import { Inbox } from "./inbox.ts";
import { ClientMessageRouter } from "./router.ts";
import { SessionService, type PresenceSource } from "./session/session.ts";
import { sessionModule, type SessionModule } from "./session/session-module.ts";
import { HubMeta } from "./storage/hub-meta.ts";
import { HubMetrics } from "./modules/metrics/hub-metrics.ts";

/** What the platform gives the hub. */
export interface HubPlatform {
  sql: SqlStorage;
  alarm: AlarmStorage;
  /** Sockets that survived hibernation. */
  sockets: WebSocket[];
  /** When the runtime last answered a socket's keep-alive ping, in Unix ms (0 if never). */
  lastPingAt(ws: WebSocket): number;
  jwt(): JwtSettings;
  log: Logger;
}

/** What a feature module is built with. */
export interface HubServices {
  sql: SqlStorage;
  meta: HubMeta;
  subscribers: SubscriberRegistry;
  fanout: Fanout;
  /** Operator counters (GET /api/metrics). */
  metrics: HubMetrics;
  publish(event: PublicEvent): void;
  publishOnce(id: string, event: PublicEvent): void;
  /**
   * Marks an internal event id as applied, for a change a module learnt another way (a snapshot),
   * so that the sidecar's own report of it, arriving later, is not applied again.
   */
  remember(id: string): void;
  log: Logger;
}

/** The feature modules, and the presence snapshot (with voice flags) sessions hand to clients at auth. */
export interface HubFeatures extends PresenceSource {
  modules: HubModule[];
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  /** Public events broadcast as a result. */
  broadcast: number;
  seq: number;
}

type AnyInternalHandler = InternalEventHandler<InternalEventName>;

export class HubCore {
  readonly meta: HubMeta;
  readonly eventLog: EventLog;
  readonly inbox: Inbox;
  readonly subscribers: SubscriberRegistry;
  readonly fanout: Fanout;
  readonly metrics: HubMetrics;
  readonly sessions: SessionService;
  readonly deadlines: Deadlines;
  /** Sessions of sockets; `start()` opens one for a socket whose player the Worker verified. */
  readonly session: SessionModule;
  readonly modules: readonly HubModule[];
  private readonly router: ClientMessageRouter;
  private readonly internal = new Map<InternalEventName, AnyInternalHandler[]>();
  private readonly log: Logger;

  /** `features` builds the feature modules (presence, rooms, ...) from the shared services. */
  constructor(platform: HubPlatform, features: (services: HubServices) => HubFeatures) {
    const { sql, log } = platform;
    this.log = log;
    this.meta = new HubMeta(sql);
    this.eventLog = new EventLog(sql, this.meta);
    this.inbox = new Inbox(sql);
    this.subscribers = new SubscriberRegistry(platform.sockets, this.eventLog.seq);
    this.metrics = new HubMetrics(sql);
    this.fanout = new Fanout(this.subscribers, log, (ws, s) => this.dropped(ws, s), this.metrics);
    const { modules: featureModules, ...snapshot } = features({
      sql,
      meta: this.meta,
      subscribers: this.subscribers,
      fanout: this.fanout,
      metrics: this.metrics,
      publish: (e) => this.publish(e),
      publishOnce: (id, e) => this.publishOnce(id, e),
      remember: (id) => void this.inbox.markSeen(id, Date.now()),
      log,
    });
    this.sessions = new SessionService(platform.jwt, this.eventLog, snapshot, () => this.meta.guildId ?? "");
    const session = (this.session = sessionModule({
      sessions: this.sessions,
      subscribers: this.subscribers,
      fanout: this.fanout,
      deadlines: () => this.deadlines,
      lastPingAt: platform.lastPingAt,
      log: log.child({ component: "session" }),
    }));
    const inboxModule: HubModule = { name: "inbox", onDeadline: (now) => void this.inbox.prune(now) };
    this.modules = [session, ...featureModules, inboxModule];
    this.deadlines = new Deadlines(platform.alarm, this.modules, (owner, err) =>
      log.error("deadline failed; retried at the next alarm", { module: owner, err }),
    );
    this.router = new ClientMessageRouter(this.modules, this.subscribers, this.fanout, () => this.eventLog.seq);
    for (const module of this.modules) {
      for (const [name, handler] of Object.entries(module.internalEvents ?? {}) as [InternalEventName, AnyInternalHandler][]) {
        this.internal.set(name, [...(this.internal.get(name) ?? []), handler]);
      }
    }
  }

  /** Applies internal events in order; duplicates (by id) are counted and skipped. */
  ingest(events: readonly InternalEvent[]): IngestResult {
    const now = Date.now();
    // Clients are judged on what they had been sent before this batch: they cannot ack events
    // of a batch that is still being broadcast.
    const sentBefore = this.eventLog.seq;
    const out: SequencedEvent[] = [];
    let accepted = 0;
    let duplicates = 0;
    for (const e of events) {
      this.meta.guildId = e.guildId;
      if (!this.inbox.markSeen(e.id, now)) {
        duplicates++;
        continue;
      }
      accepted++;
      const ts = e.ts ?? now;
      for (const handle of this.internal.get(e.event) ?? []) {
        for (const pub of handle(e, now)) {
          this.withReactions(pub.traceId || !e.traceId ? pub : { ...pub, traceId: e.traceId }, now, (p) => out.push(this.sequence(p, ts)));
        }
      }
    }
    this.fanout.events(out, sentBefore);
    this.log.debug("ingested", { accepted, duplicates, broadcast: out.length, seq: this.eventLog.seq, traceIds: traceIds(events) });
    return { accepted, duplicates, broadcast: out.length, seq: this.eventLog.seq };
  }

  /** Sequences and broadcasts one event now (and what modules add in reaction to it). */
  publish(e: PublicEvent): void {
    const now = Date.now();
    const sentBefore = this.eventLog.seq;
    const out: SequencedEvent[] = [];
    this.withReactions(e, now, (p) => out.push(this.sequence(p, now)));
    this.fanout.events(out, sentBefore);
  }

  /** Like publish, once per `id` (shared with gateway-node's report of the same change). */
  publishOnce(id: string, e: PublicEvent): void {
    if (this.inbox.markSeen(id, Date.now())) this.publish(e);
  }

  /** Routes one client message; a handler that throws is answered, never crashes the object. */
  async message(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const subscriber = this.subscribers.get(ws);
    if (!subscriber) return; // closed by us a moment ago
    try {
      await this.router.route(ws, subscriber, message);
    } catch (err) {
      this.log.error("message handler failed", { socket: subscriber.id, err });
      this.fanout.error(ws, "INTERNAL", "The server could not process that message; it was not applied.");
    }
  }

  /** The peer closed or the socket failed: forget it and tell the modules. */
  closed(ws: WebSocket): Subscriber | undefined {
    const subscriber = this.subscribers.delete(ws);
    if (subscriber) this.dropped(ws, subscriber);
    return subscriber;
  }

  private dropped(ws: WebSocket, subscriber: Subscriber): void {
    for (const module of this.modules) module.onSubscriberClosed?.(subscriber, ws);
  }

  private withReactions(e: PublicEvent, now: number, emit: (e: PublicEvent) => void): void {
    emit(e);
    for (const module of this.modules) {
      // A reaction shares its cause's trace id unless it has its own, and its audience: a reaction
      // to an event for some players only stays theirs.
      for (const reaction of module.onPublished?.(e, now) ?? []) {
        const traced = reaction.traceId || !e.traceId ? reaction : { ...reaction, traceId: e.traceId };
        this.withReactions(traced.audience || !e.audience ? traced : { ...traced, audience: e.audience }, now, emit);
      }
    }
  }

  private sequence(e: PublicEvent, ts: number): SequencedEvent {
    this.metrics.count("hub_events_total", { event: e.event });
    return this.eventLog.append((seq) => eventFrame(e, ts, seq), e.audience ?? null);
  }
}

/** The distinct trace ids of a batch, for the logs (a few; a big snapshot batch has one or none). */
function traceIds(events: readonly InternalEvent[]): string[] {
  const ids = new Set<string>();
  for (const e of events) if (e.traceId && ids.size < 10) ids.add(e.traceId);
  return [...ids];
}
