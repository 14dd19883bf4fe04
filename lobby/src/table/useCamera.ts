/**
 * The player's own camera for the table page: asks for it (a board is detail: 720p at 15 fps by
 * default), lists the cameras once the browser allows it, switches between them and turns it off
 * and on. Switching hands a new stream to the call (TableCall.sendVideo replaces the track on
 * every connection, without renegotiating).
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { cameraProblem } from "./board-messages.ts";

export interface CameraState {
  /** The live stream, or null (off, not allowed, none). */
  stream: MediaStream | null;
  /** False until the first attempt has ended one way or the other: the call waits for it. */
  settled: boolean;
  on: boolean;
  /** Plain-language reason the camera is not showing. */
  problem: string | null;
  devices: { deviceId: string; label: string }[];
  deviceId: string | null;
  setOn(on: boolean): void;
  pick(deviceId: string): void;
}

const BOARD_VIDEO: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 15, max: 15 } };

export function useCamera(enabled: boolean): CameraState {
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [settled, setSettled] = useState(false);
  const [on, setOnState] = useState(true);
  const [problem, setProblem] = useState<string | null>(null);
  const [devices, setDevices] = useState<CameraState["devices"]>([]);
  const [deviceId, setDeviceId] = useState<string | null>(null);
  // Bumped by "turn on" after a failure: the same settings, asked again.
  const [attempt, setAttempt] = useState(0);
  const current = useRef<MediaStream | null>(null);

  const listDevices = useCallback(async () => {
    const all = await navigator.mediaDevices?.enumerateDevices().catch(() => []);
    const cams = (all ?? []).filter((d) => d.kind === "videoinput");
    setDevices(cams.map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Camera ${i + 1}` })));
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the retry trigger
  useEffect(() => {
    if (!enabled || !on) {
      setStream(null);
      setSettled(true);
      return;
    }
    let cancelled = false;
    // Deferred a tick: React's StrictMode mounts twice, and asking twice would flash the camera.
    const start = setTimeout(async () => {
      try {
        if (!navigator.mediaDevices?.getUserMedia)
          throw Object.assign(new Error("This browser has no camera access here (it needs https)."), { name: "NotFoundError" });
        const video = deviceId ? { ...BOARD_VIDEO, deviceId: { exact: deviceId } } : BOARD_VIDEO;
        const s = await navigator.mediaDevices.getUserMedia({ video, audio: false });
        if (cancelled) return void stopAll(s);
        for (const t of s.getVideoTracks()) t.contentHint = "detail";
        current.current = s;
        setStream(s);
        setProblem(null);
        if (!deviceId) setDeviceId(s.getVideoTracks()[0]?.getSettings().deviceId ?? null);
      } catch (err) {
        if (cancelled) return;
        setStream(null);
        setProblem(cameraProblem(err));
      } finally {
        if (!cancelled) {
          setSettled(true);
          void listDevices();
        }
      }
    }, 0);
    return () => {
      cancelled = true;
      clearTimeout(start);
      if (current.current) stopAll(current.current);
      current.current = null;
    };
  }, [enabled, on, deviceId, attempt, listDevices]);

  useEffect(() => {
    const md = navigator.mediaDevices;
    if (!enabled || !md) return;
    md.addEventListener("devicechange", listDevices);
    return () => md.removeEventListener("devicechange", listDevices);
  }, [enabled, listDevices]);

  const setOn = useCallback((next: boolean) => {
    setProblem(null);
    setOnState(next);
    if (next) setAttempt((n) => n + 1);
  }, []);
  const pick = useCallback((id: string) => {
    setOnState(true);
    setDeviceId(id);
  }, []);

  return { stream, settled, on, problem, devices, deviceId, setOn, pick };
}

function stopAll(s: MediaStream): void {
  for (const t of s.getTracks()) t.stop();
}
