/**
 * A minimal React app on the client's hook, bundled by e2e/browser/react-hook.test.ts and run in
 * Chromium: what Spell Coven's React site does with `useSpellCoven`. It renders the connection
 * state and who is in which voice channel, and counts its renders so the test can tell a
 * re-render loop from an update.
 */
import { createElement as h, StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { SpellCovenClient } from "../src/index.ts";
import { useSpellCoven } from "../src/react.ts";

declare global {
  interface Window {
    /** Provided by the test (page.exposeFunction): a fresh JWT for the player. */
    mintToken(): Promise<string>;
    reactApp: { renders: number; client: SpellCovenClient | null; start(url: string): void; stop(): void };
  }
}

function Voice({ client }: { client: SpellCovenClient }) {
  const snap = useSpellCoven(client);
  window.reactApp.renders++;
  const channels = Object.entries(snap.presence).sort(([a], [b]) => a.localeCompare(b));
  return h(
    "main",
    null,
    h("p", { "data-testid": "state" }, snap.state),
    h("p", { "data-testid": "user" }, snap.userId ?? ""),
    h(
      "ul",
      { "data-testid": "presence" },
      channels.map(([channelId, users]) => h("li", { key: channelId, "data-channel-id": channelId }, [...users].sort().join(","))),
    ),
  );
}

let root: ReturnType<typeof createRoot> | null = null;

window.reactApp = {
  renders: 0,
  client: null,
  start(url) {
    const client = new SpellCovenClient({ url, getToken: () => window.mintToken(), trackRooms: false });
    window.reactApp.client = client;
    root = createRoot(document.getElementById("root")!);
    // StrictMode subscribes, unsubscribes and subscribes again: the store must survive that.
    root.render(h(StrictMode, null, h(Voice, { client })));
    client.connect();
  },
  stop() {
    root?.unmount();
    window.reactApp.client?.close();
  },
};
