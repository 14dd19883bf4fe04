/**
 * The floor for `npm run bench:table`: a minimal in-memory signalling relay on loopback that does
 * what the hub's tables module does for signalling and nothing else (no auth, no rooms, no
 * validation, no limits): assign a peer id, tell everyone who is at the table (`table.state`),
 * make the newcomer the offerer toward everyone already there (`rtc.connect`), stamp `from` and
 * relay `rtc.signal` / `rtc.reset` to their `to`, and `table.left` when a socket leaves.
 */
import { randomUUID } from "node:crypto";
import { WebSocketServer, type WebSocket } from "ws";

interface Peer {
  ws: WebSocket;
  peerId: string;
  camera: boolean;
  channelId: string;
}

export async function startTableRelay(): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const peers = new Map<WebSocket, Peer>();
  const signal = (ws: WebSocket, name: string, payload: object) => ws.send(JSON.stringify({ v: 1, type: "signal", signal: name, payload, ts: Date.now() }));
  const at = (channelId: string) => [...peers.values()].filter((p) => p.channelId === channelId);
  const state = (channelId: string) => {
    const list = at(channelId).map((p) => ({ peerId: p.peerId, userId: p.peerId, role: "player", camera: p.camera }));
    for (const p of at(channelId)) signal(p.ws, "table.state", { channelId, you: p.peerId, peers: list });
  };
  const leave = (ws: WebSocket) => {
    const me = peers.get(ws);
    if (!me) return;
    peers.delete(ws);
    for (const p of at(me.channelId)) signal(p.ws, "table.left", { channelId: me.channelId, peerId: me.peerId });
    state(me.channelId);
  };

  wss.on("connection", (ws) => {
    ws.on("message", (data) => {
      const m = JSON.parse(String(data));
      if (m.type === "table.join") {
        leave(ws);
        const others = at(m.channelId);
        const me: Peer = { ws, peerId: randomUUID().replaceAll("-", "").slice(0, 16), camera: m.camera, channelId: m.channelId };
        peers.set(ws, me);
        state(m.channelId);
        for (const o of others) {
          signal(ws, "rtc.connect", { channelId: m.channelId, peer: o.peerId, role: "offerer", gen: 1 });
          signal(o.ws, "rtc.connect", { channelId: m.channelId, peer: me.peerId, role: "answerer", gen: 1 });
        }
      } else if (m.type === "table.leave") leave(ws);
      else if (m.type === "rtc.signal" || m.type === "rtc.reset") {
        const me = peers.get(ws);
        const to = me && at(me.channelId).find((p) => p.peerId === m.to);
        if (!me || !to) return;
        const { type, to: _to, ...rest } = m;
        signal(to.ws, type, { ...rest, channelId: me.channelId, from: me.peerId });
      }
    });
    ws.on("close", () => leave(ws));
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`,
    close: () => new Promise<void>((resolve) => wss.close(() => resolve())),
  };
}
