/**
 * The signed-in page: one SpellCovenClient for this sign-in, rendered through useSpellCoven. The
 * page's own state (notices, the pending invite) lives here; each table's state (invite link,
 * end confirmation) lives in its card.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { SpellCovenClient, type Room } from "@spell-coven/client";
import { useSpellCoven } from "@spell-coven/client/react";
import type { LobbyConfig } from "../config.ts";
import { DirectoryContext, useSimulatorDirectory } from "../directory.ts";
import { useFeedback } from "../feedback.tsx";
import { useStoredState } from "../hooks/useStoredState.ts";
import { LobbyContext, type LobbyContextValue } from "../lobby-context.ts";
import { navigate, tablePath, useRoute } from "../route.ts";
import { peekJwt, type Session } from "../session.ts";
import { TokenSource } from "../token-source.ts";
import { ConnectionBanner } from "./ConnectionBanner.tsx";
import { CreateTable } from "./CreateTable.tsx";
import { Header } from "./Header.tsx";
import { Link } from "./Link.tsx";
import { Notices, type DropoutNotice, type EndedNotice } from "./Notices.tsx";
import { TableList } from "./TableList.tsx";
import { TablePage } from "./TablePage.tsx";

export interface PendingInvite {
  room: string | null;
  invite: string;
}

/** The lobby pings more often than the library's default, so "Live" turns to a warning within seconds of the Worker going quiet. */
const PING_INTERVAL_MS = 10_000;
const SLOW_AFTER_MS = 3_000;

export function Lobby({
  session,
  config,
  invite,
  onSignOut,
}: {
  session: Session;
  config: LobbyConfig;
  invite: PendingInvite | null;
  onSignOut(message?: string): void;
}) {
  const feedback = useFeedback();
  const signOut = useRef(onSignOut);
  signOut.current = onSignOut;
  const [client] = useState(() => {
    const tokens = new TokenSource(session, config.simUrl, (message) => signOut.current(message));
    return new SpellCovenClient({
      url: location.origin,
      getToken: tokens.getToken,
      pingIntervalMs: PING_INTERVAL_MS,
      slowAfterMs: SLOW_AFTER_MS,
      ...(config.guildId ? { guildId: config.guildId } : {}),
      ...(config.maxReconnectAttempts != null ? { maxReconnectAttempts: config.maxReconnectAttempts } : {}),
    });
  });
  const snap = useSpellCoven(client);
  const route = useRoute();
  const [endingByMe] = useState(() => new Set<string>());
  const lobby = useMemo<LobbyContextValue>(() => ({ client, config, endingByMe }), [client, config, endingByMe]);
  const [directoryVersion, setDirectoryVersion] = useState(0);
  const directory = useSimulatorDirectory(config.simUrl, directoryVersion);

  const [everOpen, setEverOpen] = useState(false);
  const [dropout, setDropout] = useStoredState<DropoutNotice | null>("spell-coven.dropout", null);
  const [ended, setEnded] = useState<readonly EndedNotice[]>([]);
  const [dismissedClosing, setDismissedClosing] = useState<ReadonlySet<string>>(new Set());
  const pendingInvite = useRef(invite);

  // What the rooms were before the latest event: a room.deleted needs the room it deleted.
  const roomsBefore = useRef<readonly Room[]>([]);
  const names = useRef({ snap, directory });
  names.current = { snap, directory };

  // ---- the connection, for as long as this sign-in lasts -----------------------------------------
  // biome-ignore lint/correctness/useExhaustiveDependencies: one connection per client; the listeners read the latest state through refs
  useEffect(() => {
    const seqs: number[] = [];
    (globalThis as { __lobby?: unknown }).__lobby = { client, seqs };
    let wasOpen = false;
    let lastState = client.state;
    const offs = [
      client.on("event", (e) => {
        seqs.push(e.seq);
        if (seqs.length > 2000) seqs.splice(0, seqs.length - 2000);
      }),
      client.on("state", (s) => {
        if (s.state === "open") {
          if (wasOpen && lastState !== "open") feedback.info("Back online. You're up to date.");
          wasOpen = true;
          setEverOpen(true);
        }
        lastState = s.state;
      }),
      client.on("auth", () => {
        const inv = pendingInvite.current;
        pendingInvite.current = null;
        if (inv) void acceptInvite(inv);
      }),
      client.on("dropout", (info) => {
        const { snap: s, directory: d } = names.current;
        const nameOf = (id: string) => s.rooms?.find((r) => r.channelId === id)?.name ?? d.channelName(id);
        setDropout({
          userId: client.userId ?? "",
          channelId: info.channelId,
          roomName: nameOf(info.channelId) ?? "your table",
          movedTo: info.nowIn === null ? null : (nameOf(info.nowIn) ?? "another voice channel"),
        });
      }),
      client.on("rejoined", () => setDropout(null)),
      client.on("room.created", () => setDirectoryVersion((v) => v + 1)),
      client.on("room.deleted", (p) => {
        const was = roomsBefore.current.find((r) => r.channelId === p.channelId);
        const me = client.userId;
        if (was && me && was.members.includes(me) && !endingByMe.has(p.channelId)) {
          setEnded((list) => [...list.filter((n) => n.channelId !== p.channelId), { channelId: p.channelId, name: was.name, idle: was.closingAt !== null }]);
        }
      }),
      client.on("room.closing.cancelled", (p) =>
        setDismissedClosing((set) => {
          if (!set.has(p.channelId)) return set;
          const next = new Set(set);
          next.delete(p.channelId);
          return next;
        }),
      ),
      client.on("error", (err) => {
        if (err.kind === "rooms") feedback.failed("rooms", err);
        // Only for whoever reads the console: the banner and the notices say what matters to the player.
        else if (err.kind !== "gave_up" && err.kind !== "fatal_close") console.info("spell-coven:", err.message);
      }),
    ];
    const acceptInvite = async (inv: PendingInvite) => {
      if (!inv.room) {
        feedback.failed("invite", new Error("This invite link is incomplete (it names no table). Ask for a new one."));
        return;
      }
      try {
        const res = await client.joinRoom(inv.room, { invite: inv.invite });
        feedback.fixed("invite");
        feedback.info(res.alreadyMember ? `You're already seated at ${res.room.name}.` : `You joined ${res.room.name} through an invite. Welcome!`);
        navigate(tablePath(res.room.channelId), { replace: true });
      } catch (err) {
        feedback.failed("invite", err);
      }
    };
    // A page that comes back to the foreground, or a network that comes back, checks at once.
    const check = () => document.visibilityState === "visible" && client.checkConnection();
    document.addEventListener("visibilitychange", check);
    window.addEventListener("online", check);
    // Seats taken while this page was away are caught up now and then.
    const refresh = setInterval(() => {
      if (client.state === "open" && document.visibilityState === "visible") client.refreshRooms().catch(() => {});
    }, 30_000);
    client.connect();
    return () => {
      for (const off of offs) off();
      document.removeEventListener("visibilitychange", check);
      window.removeEventListener("online", check);
      clearInterval(refresh);
      client.close();
    };
  }, [client]);

  // ---- derived from the snapshot ----------------------------------------------------------------
  useEffect(() => {
    // A fresh rooms list fixes a failed load.
    if (snap.rooms && snap.rooms !== roomsBefore.current) feedback.fixed("rooms");
    roomsBefore.current = snap.rooms ?? roomsBefore.current;
    const me = snap.userId;
    if (!me || !snap.rooms) return;
    // A player seated at a table (after a reload, say) is "in" it for the dropout notice.
    if (snap.currentRoom === null) {
      const mine = [...snap.rooms].reverse().find((r) => r.members.includes(me));
      if (mine) return client.setCurrentRoom(mine.channelId);
    }
    if (dropout) {
      const room = snap.rooms.find((r) => r.channelId === dropout.channelId);
      const stillSeated = room?.members.includes(me) ?? false;
      const backInVoice = snap.currentRoom === dropout.channelId && snap.dropout === "in-voice";
      if (dropout.userId !== me || !stillSeated || backInVoice) setDropout(null);
    }
  }, [snap, client, dropout, setDropout, feedback]);

  const current = snap.currentRoom ? snap.rooms?.find((r) => r.channelId === snap.currentRoom) : undefined;
  const closing =
    current && current.closingAt !== null && !dismissedClosing.has(current.channelId)
      ? { channelId: current.channelId, name: current.name, closesAt: current.closingAt }
      : null;
  const claims = peekJwt(session.token);
  const playerName = session.username ?? claims.name ?? (claims.sub ? directory.userName(claims.sub) : "Player");

  return (
    <LobbyContext.Provider value={lobby}>
      <DirectoryContext.Provider value={directory}>
        <Header player={{ name: playerName, connection: snap.connection, onSignOut: () => onSignOut() }} />
        <ConnectionBanner connection={snap.connection} everOpen={everOpen} onReconnect={() => client.reconnect()} onSignIn={() => onSignOut()} />
        <Notices
          dropout={dropout}
          onDismissDropout={() => setDropout(null)}
          closing={closing}
          onDismissClosing={(id) => setDismissedClosing((set) => new Set(set).add(id))}
          ended={ended}
          onDismissEnded={(id) => setEnded((list) => list.filter((n) => n.channelId !== id))}
        />
        <main className="page" id="main">
          {route.page === "table" ? (
            <TablePage snap={snap} channelId={route.channelId} />
          ) : (
            <div className="layout">
              <CreateTable seatedAt={current?.name ?? null} />
              {route.page === "not-found" && (
                <p className="card" role="note">
                  There is no page at {route.path}. <Link to="/">Back to the lobby</Link>
                </p>
              )}
              <TableList snap={snap} />
            </div>
          )}
        </main>
      </DirectoryContext.Provider>
    </LobbyContext.Provider>
  );
}
