/** The environment rules of rtc-node and of gateway-node's voice link. */
import { describe, expect, it } from "vitest";
import { SidecarConfigError } from "@spell-coven/sidecar-kit";
import { loadConfig } from "../src/config.ts";
import { loadConfig as loadGatewayConfig } from "../../gateway-node/src/config.ts";

const SECRET = "s".repeat(40);
const TOKEN = "t".repeat(40);
const gatewayEnv = { DISCORD_BOT_TOKEN: "x", PRIMARY_GUILD_ID: "123456789012345678", HUB_ENDPOINT: "http://127.0.0.1:8787", HUB_SECRET: SECRET };

describe("configuration", () => {
  it("rtc-node: signals go next to events; every missing or bad variable is named, secrets never echoed", () => {
    const c = loadConfig({
      GATEWAY_WS_URL: "ws://127.0.0.1:8091",
      LINK_TOKEN: TOKEN,
      HUB_ENDPOINT: "https://hub.example.com/api/internal/events",
      HUB_SECRET: SECRET,
    });
    expect(c.signalsEndpoint).toBe("https://hub.example.com/api/internal/signals");
    expect(c).toMatchObject({ controlPort: 8083, controlHost: "127.0.0.1", healthPort: 8082, emptyGraceMs: 10_000 });
    let err: unknown;
    try {
      loadConfig({ GATEWAY_WS_URL: "http://x", LINK_TOKEN: "short-secret-value", HUB_SECRET: SECRET });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SidecarConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/GATEWAY_WS_URL/);
    expect(msg).toMatch(/LINK_TOKEN/);
    expect(msg).toMatch(/HUB_ENDPOINT/);
    expect(msg).not.toContain("short-secret-value");
  });

  it("gateway-node: the link is off without LINK_TOKEN, needs 32+ characters and a private LINK_HOST", () => {
    expect(loadGatewayConfig(gatewayEnv).config.link).toBeUndefined();
    expect(loadGatewayConfig({ ...gatewayEnv, LINK_TOKEN: TOKEN }).config.link).toEqual({ token: TOKEN, port: 8091, host: "127.0.0.1" });
    expect(() => loadGatewayConfig({ ...gatewayEnv, LINK_TOKEN: "short" })).toThrow(/LINK_TOKEN must be at least 32/);
    expect(() => loadGatewayConfig({ ...gatewayEnv, LINK_TOKEN: TOKEN, LINK_HOST: "8.8.8.8" })).toThrow(/LINK_HOST must be a loopback or private/);
  });
});
