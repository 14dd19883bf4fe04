/// <reference lib="dom" />
/**
 * A minimal board-video page on the client library, bundled by e2e/browser/table-call.test.ts and
 * run in Chromium with a fake camera: a player (or spectator) joins a table's call and the test
 * reads, per peer, what WebRTC reports (frames decoded, codec, resolution, bitrate).
 */
import { SpellCovenClient, TableCall, type TableCallOptions } from "../src/index.ts";

declare global {
  interface Window {
    /** Provided by the test (page.exposeFunction): a fresh JWT for this page's player. */
    mintToken(): Promise<string>;
    tableApp: {
      client: SpellCovenClient | null;
      call: TableCall | null;
      videos: Record<string, boolean>;
      errors: string[];
      left: boolean;
      start(url: string, channelId: string, opts: { camera: boolean; codecs?: string[]; maxBitrate?: number }): Promise<void>;
      inbound(): Promise<Record<string, { framesDecoded: number; codec: string | null; width: number | null }>>;
      outbound(): Promise<{ targetBitrate: number; codec: string | null }[]>;
      stop(): void;
    };
  }
}

window.tableApp = {
  client: null,
  call: null,
  videos: {},
  errors: [],
  left: false,
  async start(url, channelId, { camera, codecs, maxBitrate }) {
    const client = new SpellCovenClient({ url, getToken: () => window.mintToken(), trackRooms: false });
    this.client = client;
    client.on("error", (e) => this.errors.push(`${e.kind}: ${e.message}`));
    await new Promise<void>((resolve) => {
      const off = client.on("auth", () => (off(), resolve()));
      client.connect();
    });
    const stream = camera ? await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 180, frameRate: 15 } }) : null;
    const opts: TableCallOptions = { camera: stream, ...(codecs ? { codecs } : {}), ...(maxBitrate ? { maxBitrate } : {}) };
    const call = new TableCall(client, channelId, opts);
    this.call = call;
    call.on("video", (peerId, s) => {
      this.videos[peerId] = s !== null;
      if (!s) return;
      const v = document.createElement("video");
      v.autoplay = v.muted = true;
      v.dataset.peer = peerId;
      v.srcObject = s;
      document.body.appendChild(v);
    });
    call.on("error", (e) => this.errors.push(e.message));
    call.on("left", () => (this.left = true));
    await call.join();
  },
  async inbound() {
    const out: Record<string, { framesDecoded: number; codec: string | null; width: number | null }> = {};
    for (const p of this.call?.participants ?? []) {
      if (p.peerId === this.call?.you) continue;
      const q = await this.call!.quality(p.peerId);
      if (q) out[p.userId] = { framesDecoded: q.framesDecoded, codec: q.codec, width: q.width };
    }
    return out;
  },
  async outbound() {
    const out: { targetBitrate: number; codec: string | null }[] = [];
    for (const p of this.call?.participants ?? []) {
      if (p.peerId === this.call?.you) continue;
      const q = await this.call!.quality(p.peerId);
      if (q?.targetBitrate) out.push({ targetBitrate: q.targetBitrate, codec: q.codec });
    }
    return out;
  },
  stop() {
    this.call?.leave();
    this.client?.close();
  },
};
