/**
 * One player's board at the table: their video (or why there is none), name, whether they are in
 * the table's voice channel and speaking, muted or deafened in Discord, and a compact quality line. Clicking (tapping) the
 * board enlarges it; again, or Escape, shrinks it.
 */
import { useEffect, useRef, useState } from "react";
import type { PeerQuality, TableCall, VoiceFlags } from "@spell-coven/client";
import { initial } from "../format.ts";
import { qualityLine, unreachable } from "./board-messages.ts";
import { MuteMark } from "./MuteMark.tsx";

export interface BoardTileProps {
  call: TableCall;
  peerId: string;
  userId: string;
  name: string;
  stream: MediaStream | null;
  hasCamera: boolean;
  inVoice: boolean;
  speaking: boolean;
  /** Their mute and deafen flags in Discord (shown while in voice); undefined: none set. */
  flags: VoiceFlags | undefined;
  state: RTCPeerConnectionState | null;
  unreachable: boolean;
  enlarged: boolean;
  onToggle(): void;
}

const QUALITY_EVERY_MS = 2_000;

export function BoardTile(p: BoardTileProps) {
  const live = useLive(p.stream);
  const q = useQuality(p.call, p.peerId, p.stream !== null);
  return (
    <figure
      className={`tile${p.enlarged ? " tile-large" : ""}${p.speaking ? " tile-speaking" : ""}`}
      data-testid="board"
      data-peer-id={p.peerId}
      data-user-id={p.userId}
      data-state={p.state ?? "new"}
    >
      <button
        type="button"
        className="tile-screen"
        aria-pressed={p.enlarged}
        aria-label={`${p.enlarged ? "Shrink" : "Enlarge"} ${p.name}'s board`}
        onClick={p.onToggle}
      >
        {p.stream && <Video stream={p.stream} hidden={!live} />}
        {!live && <span className="tile-empty">{emptyText(p)}</span>}
      </button>
      <figcaption className="tile-caption">
        <span className="avatar" aria-hidden="true">
          {initial(p.name)}
        </span>
        <span className="tile-name">{p.name}</span>
        <span className={p.inVoice ? "tag tag-ok" : "tag"} data-testid="in-voice">
          {p.inVoice ? (p.speaking ? "Speaking" : "In voice") : "Not in voice"}
        </span>
        {p.inVoice && <MuteMark flags={p.flags} variant="tag" />}
        {p.stream && live && (
          <span
            className="tile-quality"
            data-testid="quality"
            data-codec={q?.codec ?? ""}
            title="Codec · resolution · frame rate · bitrate · packets lost · round trip"
          >
            {qualityLine(q)}
          </span>
        )}
      </figcaption>
      {p.unreachable && (
        <p className="tile-problem" role="alert" data-testid="unreachable">
          {unreachable(p.name)}
        </p>
      )}
    </figure>
  );
}

function emptyText(p: BoardTileProps): string {
  if (!p.hasCamera) return `${p.name} has no camera on`;
  if (p.state === "failed" || p.unreachable) return "No connection";
  return "Connecting…";
}

/** A `<video>` playing a stream (muted: voice is Discord's; playsInline: iOS would go full screen). */
export function Video({ stream, hidden = false }: { stream: MediaStream; hidden?: boolean }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const v = ref.current;
    if (!v) return;
    v.srcObject = stream;
    v.play().catch(() => {
      // autoplay of a muted video is allowed; a refusal here only means the tile is gone
    });
  }, [stream]);
  return <video ref={ref} hidden={hidden} autoPlay muted playsInline />;
}

/**
 * Whether video is arriving on the stream: a remote track stays muted while its sender has no
 * camera (joined without one, or turned it off), and unmutes with the first frames.
 */
function useLive(stream: MediaStream | null): boolean {
  const [live, setLive] = useState(false);
  useEffect(() => {
    const track = stream?.getVideoTracks()[0];
    if (!track) return setLive(false);
    const update = () => setLive(track.readyState === "live" && !track.muted);
    update();
    track.addEventListener("mute", update);
    track.addEventListener("unmute", update);
    track.addEventListener("ended", update);
    return () => {
      track.removeEventListener("mute", update);
      track.removeEventListener("unmute", update);
      track.removeEventListener("ended", update);
    };
  }, [stream]);
  return live;
}

function useQuality(call: TableCall, peerId: string, active: boolean): PeerQuality | null {
  const [q, setQ] = useState<PeerQuality | null>(null);
  useEffect(() => {
    if (!active) return;
    let live = true;
    const read = () =>
      void call.quality(peerId).then(
        (next) => live && setQ(next),
        () => {},
      );
    read();
    const timer = setInterval(read, QUALITY_EVERY_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [call, peerId, active]);
  return q;
}
