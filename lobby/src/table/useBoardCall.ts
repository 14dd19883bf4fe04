/**
 * The table page's board-video call: a TableCall for as long as the page is open (left on
 * unmount and on navigation), with what the tiles need as React state: who is at the table,
 * each peer's video and connection, the voice move, who is speaking, and why the call ended.
 */
import { useEffect, useRef, useState } from "react";
import { TableCall, type SpellCovenClient, type TablePeer } from "@spell-coven/client";
import type { LeftReason, VoiceStatus } from "./board-messages.ts";

export interface BoardCallState {
  call: TableCall | null;
  you: string | null;
  peers: readonly TablePeer[];
  videos: Readonly<Record<string, MediaStream>>;
  states: Readonly<Record<string, RTCPeerConnectionState>>;
  /** Peers whose connection failed and did not come back after the rebuilds. */
  unreachable: ReadonlySet<string>;
  voice: { status: VoiceStatus; message?: string } | null;
  /** Users speaking now (from the table bot, when it is at the table). */
  speaking: ReadonlySet<string>;
  /** Set when the call was left from elsewhere; why, as far as the page can tell. */
  left: LeftReason | null;
  /** The hub refused the join (private table, full), in its words. */
  refused: string | null;
}

/** A connection not up this long after it was set up (rebuilds included) is unreachable. */
const UNREACHABLE_AFTER_MS = 25_000;
/** Failures (each followed by a rebuild) before a peer is said to be unreachable. */
const UNREACHABLE_FAILURES = 2;
const REFUSALS = new Set(["TABLE_NOT_FOUND", "NOT_ROOM_MEMBER", "TABLE_FULL"]);

const initial: BoardCallState = {
  call: null,
  you: null,
  peers: [],
  videos: {},
  states: {},
  unreachable: new Set(),
  voice: null,
  speaking: new Set(),
  left: null,
  refused: null,
};

/**
 * Joins `channelId`'s call while `active` (the camera question settled). `camera` is the stream
 * to send (null: none); changing it switches the video on every connection without renegotiating.
 * `why` tells a `left` event's reason from the lobby's state at that moment. `attempt` restarts it.
 */
export function useBoardCall(
  client: SpellCovenClient,
  channelId: string,
  opts: { active: boolean; camera: MediaStream | null; attempt: number; why: () => LeftReason },
): BoardCallState {
  const [state, setState] = useState<BoardCallState>(initial);
  const camera = useRef(opts.camera);
  camera.current = opts.camera;
  const why = useRef(opts.why);
  why.current = opts.why;
  const callRef = useRef<TableCall | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` restarts the call; the camera is read through a ref (a switch must not rebuild the call)
  useEffect(() => {
    if (!opts.active) return;
    let cancelled = false;
    let joined = false;
    let call: TableCall | null = null;
    const offs: (() => void)[] = [];
    const failures = new Map<string, number>();
    const timers = new Map<string, ReturnType<typeof setTimeout>>();
    let elsewhere = false;
    const update = (f: (s: BoardCallState) => Partial<BoardCallState>) => setState((s) => ({ ...s, ...f(s) }));
    const markUnreachable = (peerId: string, yes: boolean) =>
      update((s) => {
        if (s.unreachable.has(peerId) === yes) return {};
        const next = new Set(s.unreachable);
        if (yes) next.add(peerId);
        else next.delete(peerId);
        return { unreachable: next };
      });

    // Deferred a tick: StrictMode's double mount must not join, leave and join the hub at once.
    const start = setTimeout(() => {
      call = new TableCall(client, channelId, { camera: camera.current });
      callRef.current = call;
      setState({ ...initial, call });
      offs.push(
        call.on("participants", (peers) => update(() => ({ peers, you: call?.you ?? null }))),
        call.on("video", (peerId, stream) =>
          update((s) => {
            const videos = { ...s.videos };
            if (stream) videos[peerId] = stream;
            else delete videos[peerId];
            return { videos };
          }),
        ),
        call.on("peerState", (peerId, pcState) => {
          update((s) => ({ states: { ...s.states, [peerId]: pcState } }));
          if (pcState === "connected") {
            failures.delete(peerId);
            clearTimeout(timers.get(peerId));
            timers.delete(peerId);
            markUnreachable(peerId, false);
            return;
          }
          if (!timers.has(peerId))
            timers.set(
              peerId,
              setTimeout(() => markUnreachable(peerId, true), UNREACHABLE_AFTER_MS),
            );
          if (pcState === "failed") {
            const n = (failures.get(peerId) ?? 0) + 1;
            failures.set(peerId, n);
            if (n >= UNREACHABLE_FAILURES) markUnreachable(peerId, true);
          }
        }),
        call.on("voice", (v) => update(() => ({ voice: { status: v.status, ...(v.message ? { message: v.message } : {}) } }))),
        call.on("speaking", (p) =>
          update((s) => {
            if (s.speaking.has(p.userId) === p.speaking) return {};
            const speaking = new Set(s.speaking);
            if (p.speaking) speaking.add(p.userId);
            else speaking.delete(p.userId);
            return { speaking };
          }),
        ),
        call.on("left", () => {
          joined = false;
          update(() => ({ left: elsewhere ? "elsewhere" : why.current(), videos: {}, states: {}, peers: [], unreachable: new Set() }));
        }),
        call.on("error", (err) => console.info("spell-coven table call:", err.message)),
        client.on("error", (err) => {
          const code = String(err.detail.code ?? "");
          // The hub tells the old tab after its table.left; the left event may already be out.
          if (code === "TABLE_OPENED_ELSEWHERE") {
            elsewhere = true;
            update((s) => (s.left ? { left: "elsewhere" } : {}));
          } else if (REFUSALS.has(code)) update(() => ({ refused: err.message.replace(/^Server: /, "") }));
        }),
        // Pairs follow peers: a peer who left needs no timer.
        call.on("participants", (peers) => {
          for (const [id, t] of timers) {
            if (!peers.some((p) => p.peerId === id)) {
              clearTimeout(t);
              timers.delete(id);
            }
          }
        }),
      );
      void call.join().then(
        () => {
          if (cancelled) call?.leave();
          else joined = true;
        },
        (err) => console.info("spell-coven table call:", String(err)),
      );
    }, 0);

    return () => {
      cancelled = true;
      clearTimeout(start);
      for (const t of timers.values()) clearTimeout(t);
      for (const off of offs) off();
      if (call && joined) call.leave();
      callRef.current = null;
    };
  }, [client, channelId, opts.active, opts.attempt]);

  useEffect(() => {
    callRef.current?.sendVideo(opts.camera);
  }, [opts.camera]);

  return state;
}
