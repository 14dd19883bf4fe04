/**
 * Where the ICE servers of a table call come from:
 *
 * - Cloudflare TURN (`TURN_KEY_ID` + the `TURN_KEY_API_TOKEN` secret): short-lived credentials from
 *   `generate-ice-servers`, TTL `TURN_TTL_SECONDS` (default 4 h, at most Cloudflare's 48 h). URLs on
 *   port 53 are dropped: browsers block that port.
 * - otherwise `STATIC_ICE_SERVERS` (a JSON RTCIceServer list, e.g. a public STUN server);
 * - otherwise none: the local run and the tests connect over host candidates on loopback.
 */
import { IceServer, type IceServersResult } from "@spell-coven/common";
import { z } from "zod";
import { ApiError } from "../errors.ts";
import type { Config } from "../env.ts";

const CloudflareAnswer = z.object({ iceServers: z.union([z.array(IceServer), IceServer]) });

/** True for a TURN/STUN URL on port 53 (`turn:host:53?transport=udp`). */
const onPort53 = (url: string) => /^(stun|stuns|turn|turns):[^?]*:53(\?|$)/.test(url);

function withoutPort53(servers: IceServer[]): IceServer[] {
  const out: IceServer[] = [];
  for (const s of servers) {
    const urls = (Array.isArray(s.urls) ? s.urls : [s.urls]).filter((u) => !onPort53(u));
    if (urls.length > 0) out.push({ ...s, urls });
  }
  return out;
}

export async function iceServersFor(config: Config, now = Date.now(), fetcher: typeof fetch = fetch): Promise<IceServersResult> {
  if (config.TURN_KEY_ID && config.TURN_KEY_API_TOKEN) {
    const ttl = config.TURN_TTL_SECONDS;
    const url = `${config.TURN_API_BASE.replace(/\/+$/, "")}/turn/keys/${encodeURIComponent(config.TURN_KEY_ID)}/credentials/generate-ice-servers`;
    let res: Response;
    try {
      res = await fetcher(url, {
        method: "POST",
        headers: { Authorization: `Bearer ${config.TURN_KEY_API_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ ttl }),
      });
    } catch {
      throw new ApiError("TURN_UNAVAILABLE", "The TURN service did not answer; board video may only work on open networks. Try again in a moment.");
    }
    if (!res.ok)
      throw new ApiError("TURN_UNAVAILABLE", `The TURN service refused to issue credentials (HTTP ${res.status}); check TURN_KEY_ID and TURN_KEY_API_TOKEN.`);
    const parsed = CloudflareAnswer.safeParse(await res.json().catch(() => null));
    if (!parsed.success) throw new ApiError("TURN_UNAVAILABLE", "The TURN service answered something unexpected; board video may only work on open networks.");
    const servers = Array.isArray(parsed.data.iceServers) ? parsed.data.iceServers : [parsed.data.iceServers];
    return { iceServers: withoutPort53(servers), expiresAt: now + ttl * 1000, source: "cloudflare" };
  }
  if (config.STATIC_ICE_SERVERS.length > 0) return { iceServers: withoutPort53(config.STATIC_ICE_SERVERS), expiresAt: null, source: "static" };
  return { iceServers: [], expiresAt: null, source: "none" };
}
