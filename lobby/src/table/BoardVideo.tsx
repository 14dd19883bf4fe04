/**
 * The table's live boards (issue 13): one tile per other player, your own camera tile when you
 * hold a seat, spectators (not seated, public table) watch without one. The call is left when
 * the page goes (unmount, navigation). One column on a phone.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { Room } from "@spell-coven/client";
import { discordChannelUrl } from "../config.ts";
import { useDirectory } from "../directory.ts";
import { useFeedback } from "../feedback.tsx";
import { useLobby } from "../lobby-context.ts";
import { leftLine, voiceLine, type LeftReason } from "./board-messages.ts";
import { BoardTile } from "./BoardTile.tsx";
import { useVoiceFlags } from "./MuteMark.tsx";
import { OwnCameraTile } from "./OwnCameraTile.tsx";
import { useBoardCall } from "./useBoardCall.ts";
import { useCamera } from "./useCamera.ts";

export function BoardVideo({ room, me, rooms }: { room: Room; me: string; rooms: () => readonly Room[] | null }) {
  const { client, config } = useLobby();
  const names = useDirectory();
  const feedback = useFeedback();
  const seated = room.members.includes(me);
  const role = seated ? "player" : room.private ? null : "spectator";
  const camera = useCamera(role === "player");
  const [attempt, setAttempt] = useState(0);
  const [enlarged, setEnlarged] = useState<string | null>(null);
  const flags = useVoiceFlags(client);

  const why = useCallback((): LeftReason => {
    const now = rooms()?.find((r) => r.channelId === room.channelId);
    if (!now) return "ended";
    return now.members.includes(me) ? "other" : "seat";
  }, [rooms, room.channelId, me]);
  const call = useBoardCall(client, room.channelId, { active: role !== null && (role === "spectator" || camera.settled), camera: camera.stream, attempt, why });

  // Said where the lobby says such things (its toast); the table's end has its own notice.
  const info = useRef(feedback.info);
  info.current = feedback.info;
  useEffect(() => {
    const line = call.left ? leftLine(call.left) : null;
    if (line) info.current(line);
  }, [call.left]);

  useEffect(() => {
    if (!enlarged) return;
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setEnlarged(null);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [enlarged]);

  if (role === null) return null;
  const others = call.peers.filter((p) => p.role === "player" && p.peerId !== call.you);
  const watching = call.peers.filter((p) => p.role === "spectator").length;
  const voice = call.voice ? voiceLine(call.voice.status, call.voice.message) : null;

  return (
    <section className="card boards" aria-label="Boards" data-testid="boards" data-role={role}>
      <header className="section-head">
        <h2>Boards</h2>
        <span className="muted small" data-testid="watching">
          {role === "spectator" ? "You're watching" : watching > 0 ? `${watching} watching` : ""}
        </span>
      </header>
      {voice && call.voice && (
        <p className={`voice-status${call.voice.status === "failed" ? " error" : ""}`} role="status" data-testid="voice-status" data-status={call.voice.status}>
          {voice}{" "}
          {(call.voice.status === "join-voice" || call.voice.status === "failed") && (
            <a
              className="discord-link"
              href={discordChannelUrl(config.discordWebUrl, room.guildId, room.channelId)}
              target="_blank"
              rel="noopener noreferrer"
              data-testid="join-voice"
            >
              Join voice in Discord
            </a>
          )}
        </p>
      )}
      {call.refused && (
        <p className="error" role="alert" data-testid="call-refused">
          {call.refused}
        </p>
      )}
      {call.left && call.left !== "ended" ? (
        <div className="call-left" data-testid="call-left" data-reason={call.left}>
          <p>{leftLine(call.left)}</p>
          {(call.left === "elsewhere" || call.left === "other" || !room.private) && (
            <button type="button" className="btn" data-action="rejoin-call" onClick={() => setAttempt((n) => n + 1)}>
              {call.left === "seat" ? "Watch the boards" : "Watch here again"}
            </button>
          )}
        </div>
      ) : (
        <div className={`tiles${enlarged ? " tiles-has-large" : ""}`}>
          {others.map((p) => (
            <BoardTile
              key={p.peerId}
              call={call.call!}
              peerId={p.peerId}
              userId={p.userId}
              name={names.userName(p.userId)}
              stream={call.videos[p.peerId] ?? null}
              hasCamera={p.camera}
              inVoice={room.voice.includes(p.userId)}
              speaking={call.speaking.has(p.userId)}
              flags={flags[p.userId]}
              state={call.states[p.peerId] ?? null}
              unreachable={call.unreachable.has(p.peerId)}
              enlarged={enlarged === p.peerId}
              onToggle={() => setEnlarged((e) => (e === p.peerId ? null : p.peerId))}
            />
          ))}
          {role === "player" && <OwnCameraTile camera={camera} name={names.userName(me)} inVoice={room.voice.includes(me)} flags={flags[me]} />}
          {others.length === 0 && (
            <p className="muted small tiles-empty" data-testid="no-boards">
              {call.call ? "No other player has opened this table yet. Their boards appear here when they do." : "Joining the table's video…"}
            </p>
          )}
        </div>
      )}
      <p className="muted small" data-testid="privacy-note">
        Board video goes straight between the players' browsers. The table bot, when you call it, joins the voice channel to show who is talking and play table
        sounds: it listens only to tell who is speaking, and nothing is recorded or stored.
      </p>
    </section>
  );
}
