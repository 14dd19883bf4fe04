/**
 * The simulator, an in-process gateway-node with its voice link, and rtc-node's link client and
 * DiscordRtcClient over it: the production path (no second Gateway session), on loopback.
 */
import { BOT_USER_ID, DEMO_GUILD_ID, type LocalDiscord, type LocalSimulatorOptions } from "@spell-coven/simulator";
import { createLogger, type Logger } from "@spell-coven/common";
import { startHarness, type Harness } from "../../gateway-node/test/helpers/harness.ts";
import { DiscordRtcClient, type DiscordRtcClientOptions } from "../src/discord-rtc-client.ts";
import { VoiceLinkClient } from "../src/link/voice-link-client.ts";

export const LINK_TOKEN = "test-link-token-0123456789abcdef0123456789";

export function testLog(service: string, sink?: string[]): Logger {
  return createLogger(process.env.RTC_TEST_LOGS ? "DEBUG" : "WARN", { service }, (l) => {
    sink?.push(l);
    if (process.env.RTC_TEST_LOGS) console.log(l);
  });
}

export interface VoiceRig {
  h: Harness;
  sim: LocalDiscord;
  link: VoiceLinkClient;
  linkUrl: string;
  client(opts?: Partial<DiscordRtcClientOptions>): DiscordRtcClient;
  close(): Promise<void>;
}

export async function startRig(opts: { sim?: LocalSimulatorOptions; linkPort?: number } = {}): Promise<VoiceRig> {
  const h = await startHarness({
    sim: { ...opts.sim },
    config: { link: { token: LINK_TOKEN, port: opts.linkPort ?? 0, host: "127.0.0.1" } },
    logLevel: "INFO",
  });
  await until(() => h.node.manager.info().every((s) => s.state === "ready") && h.node.manager.info().length > 0, 8000, "gateway-node ready");
  const linkUrl = `ws://127.0.0.1:${h.node.linkPort}`;
  const link = new VoiceLinkClient({ url: linkUrl, token: LINK_TOKEN, log: testLog("rtc-link"), retryBaseMs: 50, retryMaxMs: 300 });
  await link.start();
  await until(() => link.botUserId === BOT_USER_ID, 5000, "the bot's user id over the link");
  const clients: DiscordRtcClient[] = [];
  return {
    h,
    sim: h.sim,
    link,
    linkUrl,
    client(o = {}) {
      const c = new DiscordRtcClient({ guildId: DEMO_GUILD_ID, signalling: link, log: testLog("rtc-client"), moveGraceMs: 500, ...o });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.disconnect();
      link.stop();
      await h.close();
    },
  };
}

export async function until<T>(check: () => T | undefined | null | false, timeoutMs = 8000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function botChannel(sim: LocalDiscord): string | null {
  return sim.voiceStates(DEMO_GUILD_ID).find((v) => v.user_id === BOT_USER_ID)?.channel_id ?? null;
}

/** Frequency within 3 %. */
export const closeTo = (hz: number | null | undefined, expected: number) => hz != null && Math.abs(hz - expected) <= expected * 0.03;
