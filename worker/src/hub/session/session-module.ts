/**
 * The WebSocket side of sessions: the `auth` message, and the per-socket deadlines (auth
 * timeout, token expiry, idle sweep), all on the hub's one alarm.
 */
import { CloseCodes, type Logger } from "@spell-coven/common";
import type { Deadlines } from "../deadlines.ts";
import type { Fanout } from "../fanout/fanout.ts";
import { batchFrames } from "../fanout/frames.ts";
import type { SubscriberRegistry } from "../fanout/subscribers.ts";
import type { HubModule } from "../hub-module.ts";
import { IDLE_TIMEOUT_MS, SWEEP_INTERVAL_MS } from "../limits.ts";
import type { Player } from "../../auth/jwt.ts";
import type { ResumePoint, SessionService } from "./session.ts";

export interface SessionModuleDeps {
  sessions: SessionService;
  subscribers: SubscriberRegistry;
  fanout: Fanout;
  deadlines: () => Deadlines;
  /** When the runtime last answered this socket's keep-alive ping (auto-response), if ever. */
  lastPingAt: (ws: WebSocket) => number;
  log: Logger;
}

/** What a socket session starts from, once the player is known. */
export interface SessionStart {
  player: Player;
  resume?: ResumePoint | undefined;
  batch: boolean;
}

export interface SessionModule extends HubModule {
  /**
   * Starts the session of a socket whose player is already verified (the Worker's SSE bridge,
   * which checked the stream ticket): auth.ok, then the replay.
   */
  start(ws: WebSocket, start: SessionStart): Promise<void>;
}

export function sessionModule({ sessions, subscribers, fanout, deadlines, lastPingAt, log }: SessionModuleDeps): SessionModule {
  const start = async (ws: WebSocket, { player, resume, batch }: SessionStart) => {
    const current = subscribers.get(ws);
    if (!current || current.userId) return;
    const now = Date.now();
    const session = sessions.open(player, resume, now);
    subscribers.save(ws, { ...current, userId: player.userId, expiresAt: player.expiresAt, ackedSeq: session.syncedSeq, lastMessageAt: now, batch });
    fanout.send(ws, JSON.stringify(session.authOk));
    for (const data of batch ? batchFrames(session.replay) : session.replay) fanout.send(ws, data);
    log.info("ws authenticated", { socket: current.id, userId: player.userId, resumed: session.authOk.resumed, fromSeq: resume?.seq });
    await deadlines().by(player.expiresAt);
  };
  return {
    start,
    name: "session",
    clientMessages: {
      auth: async ({ ws, subscriber, message }) => {
        if (subscriber.userId) return fanout.error(ws, "ALREADY_AUTHENTICATED", "This connection is already authenticated.");
        const verified = await sessions.verify(message.token);
        if (!verified.ok) {
          log.info("ws auth rejected", { socket: subscriber.id, reason: verified.reason });
          return fanout.close(ws, verified.closeCode, verified.reason);
        }
        // The socket may have closed, or timed out, while the keys were fetched: start() checks.
        await start(ws, { player: verified.player, resume: message.resume, batch: message.batch === true });
      },
    },

    nextDeadline(now) {
      let next = Infinity;
      for (const [, s] of subscribers.entries()) {
        next = Math.min(next, s.userId ? now + SWEEP_INTERVAL_MS : s.authDeadline);
        if (s.expiresAt !== null) next = Math.min(next, s.expiresAt);
      }
      return next === Infinity ? null : next;
    },

    onDeadline(now) {
      for (const [ws, s] of [...subscribers.entries()]) {
        if (!s.userId) {
          if (now >= s.authDeadline) fanout.close(ws, CloseCodes.AuthTimeout, "No auth message in time; send it first.");
          continue;
        }
        if (s.expiresAt !== null && now >= s.expiresAt) {
          fanout.close(ws, CloseCodes.TokenExpired, "Token expired: get a new token and reconnect with resume.");
          continue;
        }
        if (Math.max(lastPingAt(ws), s.lastMessageAt) < now - IDLE_TIMEOUT_MS) {
          fanout.close(ws, CloseCodes.Idle, `No ping for ${IDLE_TIMEOUT_MS / 1000} s; reconnect.`);
        }
      }
    },
  };
}
