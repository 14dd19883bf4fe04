/// <reference lib="dom" />
/**
 * The page `npm run bench:table` runs in each Chromium context: a TableCall over either the
 * client library and the hub (`hub`) or a bare WebSocket to the in-memory relay (`relay`, the
 * floor). It records when it sent `table.join`, when the first frame of each peer's video was
 * decoded, and how many signalling messages it sent and received.
 */
import { SpellCovenClient, TableCall } from "../../client/src/index.ts";

type Listener = (...args: any[]) => void;

/** What TableCall needs of a client (signal and auth events, send), over a plain WebSocket. */
class RelayClient {
  readonly #listeners = new Map<string, Set<Listener>>();
  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => {
      const m = JSON.parse(String(e.data));
      if (m.type === "signal") for (const l of this.#listeners.get("signal") ?? []) l(m);
    });
  }
  on(name: string, l: Listener): () => void {
    if (!this.#listeners.has(name)) this.#listeners.set(name, new Set());
    this.#listeners.get(name)!.add(l);
    return () => this.#listeners.get(name)?.delete(l);
  }
  send(m: object): boolean {
    this.ws.send(JSON.stringify(m));
    return true;
  }
}

declare global {
  interface Window {
    mintToken(): Promise<string>;
    bench: {
      joinAt: number;
      frames: Record<string, number>;
      msgs: number;
      you(): string | null;
      connect(mode: "hub" | "relay", url: string): Promise<void>;
      join(channelId: string): Promise<void>;
      leave(): void;
    };
  }
}

let client: { on(n: string, l: Listener): () => void; send(m: object): boolean } | null = null;
let call: TableCall | null = null;
let camera: MediaStream | null = null;
const videos = new Map<string, HTMLVideoElement>();

window.bench = {
  joinAt: 0,
  frames: {},
  msgs: 0,
  you: () => call?.you ?? null,
  async connect(mode, url) {
    camera = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 180, frameRate: 15 } });
    let c: typeof client;
    if (mode === "hub") {
      const sc = new SpellCovenClient({ url, getToken: () => window.mintToken(), trackRooms: false });
      await new Promise<void>((resolve) => {
        const off = sc.on("auth", () => {
          off();
          resolve();
        });
        sc.connect();
      });
      c = sc as unknown as typeof client;
    } else {
      const ws = new WebSocket(url);
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      });
      c = new RelayClient(ws);
    }
    // Count what this page sends and receives for the call (the hub's other traffic is not signalling).
    const send = c!.send.bind(c);
    c!.send = (m: object) => {
      const type = (m as { type: string }).type;
      if (type.startsWith("rtc.") || type.startsWith("table.")) {
        this.msgs++;
        if (type === "table.join") this.joinAt = Date.now();
      }
      return send(m);
    };
    c!.on("signal", () => this.msgs++);
    client = c;
  },
  async join(channelId) {
    this.frames = {};
    call = new TableCall(client as unknown as SpellCovenClient, channelId, { camera, iceServers: [] });
    call.on("video", (peerId, stream) => {
      videos.get(peerId)?.remove();
      videos.delete(peerId);
      if (!stream) return;
      // Kept playing (small) like a tile, so decoding costs what it costs on the table page.
      const v = document.createElement("video");
      v.width = 160;
      videos.set(peerId, v);
      v.muted = v.autoplay = true;
      v.srcObject = stream;
      document.body.appendChild(v);
      v.requestVideoFrameCallback(() => {
        this.frames[peerId] ??= Date.now();
      });
      void v.play();
    });
    await call.join();
  },
  leave() {
    call?.leave();
    call = null;
  },
};
