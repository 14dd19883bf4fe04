/**
 * What the page needs to start, from the Worker's public `GET /api/session-config`. `?sim=<url>`
 * (remembered for the tab) overrides the development identity provider.
 */
import { SessionConfig } from "@spell-coven/common";

export const DEFAULT_SIMULATOR_URL = "http://127.0.0.1:8790";
export const DEFAULT_DISCORD_WEB_URL = "https://discord.com";
const SIM_KEY = "spell-coven.simulator";

export interface LobbyConfig {
  /** The development identity provider (the simulator), or null with a real identity provider. */
  simUrl: string | null;
  /** From the Worker's MAX_WS_RECONNECT_ATTEMPTS, when it says. */
  maxReconnectAttempts: number | null;
  guildId: string | null;
  /** Where "Open in Discord" links point: discord.com, or the simulator's page in the local run. */
  discordWebUrl: string;
}

/**
 * What the page needs to start: `?sim=<url>` (remembered for the tab) wins, then the Worker's
 * `GET /api/session-config` (`{ guildId, maxReconnectAttempts, devIdentityUrl, discordWebUrl }`),
 * then the `npm start` default simulator.
 */
export async function resolveConfig(): Promise<LobbyConfig> {
  const cfg: LobbyConfig = { simUrl: DEFAULT_SIMULATOR_URL, maxReconnectAttempts: null, guildId: null, discordWebUrl: DEFAULT_DISCORD_WEB_URL };
  let served = false;
  try {
    const res = await fetch("/api/session-config", { headers: { Accept: "application/json" } });
    const body = res.ok ? SessionConfig.safeParse(await res.json()) : null;
    if (body?.success) {
      served = true;
      const { devIdentityUrl, maxReconnectAttempts, guildId, discordWebUrl } = body.data;
      cfg.simUrl = devIdentityUrl && /^https?:\/\//.test(devIdentityUrl) ? devIdentityUrl.replace(/\/+$/, "") : null;
      cfg.maxReconnectAttempts = maxReconnectAttempts;
      cfg.guildId = guildId;
      if (/^https?:\/\//.test(discordWebUrl)) cfg.discordWebUrl = discordWebUrl.replace(/\/+$/, "");
    }
  } catch {
    // not served: defaults
  }
  const fromQuery = new URLSearchParams(location.search).get("sim");
  if (fromQuery && /^https?:\/\//.test(fromQuery)) {
    try {
      sessionStorage.setItem(SIM_KEY, fromQuery);
    } catch {
      // storage disabled
    }
    cfg.simUrl = fromQuery.replace(/\/+$/, "");
  } else {
    const remembered = safeGet(SIM_KEY);
    if (remembered) cfg.simUrl = remembered;
    else if (!served) cfg.simUrl = DEFAULT_SIMULATOR_URL;
  }
  return cfg;
}

function safeGet(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

/** The Discord (or simulator) page of a voice channel. */
export function discordChannelUrl(base: string, guildId: string, channelId: string): string {
  return `${base}/channels/${guildId}/${channelId}`;
}
