/**
 * Your own camera at the table: what the others see, a camera picker and on/off, and in plain
 * language why there is no video (permission denied, no camera, camera busy).
 */
import type { VoiceFlags } from "@spell-coven/client";
import type { CameraState } from "./useCamera.ts";
import { Video } from "./BoardTile.tsx";
import { MuteMark } from "./MuteMark.tsx";

/** `flags`: whether you are muted or deafened in Discord (so you know why nobody hears you). */
export function OwnCameraTile({ camera, name, inVoice, flags }: { camera: CameraState; name: string; inVoice: boolean; flags: VoiceFlags | undefined }) {
  return (
    <figure className="tile tile-own" data-testid="own-camera">
      <div className="tile-screen">
        {camera.stream ? (
          <Video stream={camera.stream} />
        ) : (
          <span className="tile-empty">{camera.on ? (camera.settled ? "No camera" : "Starting your camera…") : "Your camera is off"}</span>
        )}
      </div>
      <figcaption className="tile-caption">
        <span className="tile-name">{name} (you)</span>
        <span className={inVoice ? "tag tag-ok" : "tag"}>{inVoice ? "In voice" : "Not in voice"}</span>
        {inVoice && <MuteMark flags={flags} variant="tag" />}
      </figcaption>
      <div className="tile-controls">
        {camera.devices.length > 0 && (
          <label className="small">
            Camera{" "}
            <select value={camera.deviceId ?? ""} onChange={(e) => camera.pick(e.target.value)} data-testid="camera-picker">
              {camera.devices.map((d) => (
                <option key={d.deviceId} value={d.deviceId}>
                  {d.label}
                </option>
              ))}
            </select>
          </label>
        )}
        <button
          type="button"
          className="btn"
          data-action="camera"
          aria-pressed={camera.on && camera.stream !== null}
          onClick={() => camera.setOn(!(camera.on && camera.stream))}
        >
          {camera.on && camera.stream ? "Turn camera off" : "Turn camera on"}
        </button>
      </div>
      {camera.problem && (
        <p className="tile-problem" role="alert" data-testid="camera-problem">
          {camera.problem}
        </p>
      )}
    </figure>
  );
}
