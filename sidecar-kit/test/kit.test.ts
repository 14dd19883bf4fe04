/** Metrics exposition, configuration rules, the health server, the HTTP client's fetch adapter, the runtime and the lifecycle. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createLogger } from "@spell-coven/common";
import { DiscordRestClient } from "@spell-coven/common/rest";
import {
  ExitCode,
  HealthServer,
  MetricsRegistry,
  SidecarConfigError,
  SidecarRuntime,
  fetchOverHttp,
  parseEnv,
  runUntilStopped,
  sidecarEnv,
  type HealthStatus,
} from "../src/index.ts";

const quiet = createLogger("ERROR", {}, () => {});
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe("metrics", () => {
  class M extends MetricsRegistry {
    readonly hits = this.counter("x_hits_total", "Hits.");
    readonly depth = this.gauge("x_depth", "Depth.");
    readonly latency = this.histogram("x_latency_ms", "Latency.", [10, 100]);
  }

  it("renders counters, gauges (escaped labels) and cumulative histograms", () => {
    const m = new M();
    m.hits.inc({ route: 'a"b\\c' });
    m.depth.set(3, { key: "k" });
    for (const v of [5, 50, 500]) m.latency.observe(v, { op: "post" });
    const text = m.render();
    expect(text).toContain('# TYPE x_hits_total counter\nx_hits_total{route="a\\"b\\\\c"} 1\n');
    expect(text).toContain('x_depth{key="k"} 3\n');
    expect(text).toContain("# TYPE x_latency_ms histogram\n");
    expect(text).toContain('x_latency_ms_bucket{le="10",op="post"} 1\nx_latency_ms_bucket{le="100",op="post"} 2\nx_latency_ms_bucket{le="+Inf",op="post"} 3\n');
    expect(text).toContain('x_latency_ms_sum{op="post"} 555\nx_latency_ms_count{op="post"} 3\n');
  });

  it("refuses a name declared twice and buckets that do not increase", () => {
    class Twice extends MetricsRegistry {
      readonly a = this.counter("dup_total", "a");
      readonly b = this.counter("dup_total", "b");
    }
    expect(() => new Twice()).toThrow(/declared twice/);
    class Bad extends MetricsRegistry {
      readonly h = this.histogram("h", "h", [5, 5]);
    }
    expect(() => new Bad()).toThrow(/increasing/);
  });
});

describe("configuration rules shared by the sidecars", () => {
  const Schema = z.object({ ...sidecarEnv });
  it("defaults, and one line per variable to fix", () => {
    const secret = "s".repeat(32);
    expect(parseEnv(Schema, { HUB_SECRET: secret })).toEqual({ HUB_SECRET: secret, LOG_LEVEL: "INFO", HEALTH_CHECK_PORT: 8080, HEALTH_CHECK_HOST: "0.0.0.0" });
    // The same rule as the Worker's (common/src/settings.ts): a secret one side takes, the other takes too.
    expect(() => parseEnv(Schema, { HUB_SECRET: "short" })).toThrow(/HUB_SECRET must be at least 32 characters/);
    try {
      parseEnv(Schema, { HUB_SECRET: "", LOG_LEVEL: "LOUD", HEALTH_CHECK_PORT: "99999" });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SidecarConfigError);
      expect((e as SidecarConfigError).problems).toEqual([
        "HUB_SECRET must be at least 32 characters: use a long random value (openssl rand -hex 32)",
        "LOG_LEVEL must be DEBUG, INFO, WARN or ERROR",
        "HEALTH_CHECK_PORT must be a TCP port (0-65535)",
      ]);
    }
  });
});

async function server(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  closers.push(() => new Promise((r) => s.close(() => r())));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe("fetchOverHttp", () => {
  it("gives DiscordRestClient what it reads, so it honours a 429's retry_after without undici", async () => {
    const seen: { at: number; ua: string | undefined; auth: string | undefined }[] = [];
    const base = await server((req, res) => {
      seen.push({ at: Date.now(), ua: req.headers["user-agent"], auth: req.headers.authorization });
      if (seen.length === 1) {
        res
          .writeHead(429, { "content-type": "application/json", "retry-after": "1" })
          .end(JSON.stringify({ message: "slow down", retry_after: 0.25, global: false }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "x-ratelimit-remaining": "4" }).end(JSON.stringify({ url: "ws://x" }));
    });
    const rest = new DiscordRestClient({ token: "t", apiBase: base, fetch: fetchOverHttp(), logger: quiet });
    expect(await rest.request<{ url: string }>("GET", "/gateway/bot")).toEqual({ url: "ws://x" });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(230);
    expect(seen[0]!.ua).toMatch(/^DiscordBot \(/);
    expect(seen[0]!.auth).toBe("Bot t");
  });
});

describe("health server", () => {
  it("200 unless unhealthy (503), /metrics as Prometheus text, 404 and 405 otherwise", async () => {
    let status: HealthStatus = "ok";
    const hs = new HealthServer({ health: () => ({ status, reason: status === "ok" ? undefined : "giving up" }), metrics: () => "x_total 1\n" });
    const port = await hs.listen(0, "127.0.0.1");
    closers.push(() => hs.close());
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    status = "unhealthy";
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "unhealthy", reason: "giving up" });
    expect(await (await fetch(`${base}/metrics`)).text()).toBe("x_total 1\n");
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/health`, { method: "POST" })).status).toBe(405);
  });
});

function fakeOutbox(left: number) {
  const calls: string[] = [];
  return {
    calls,
    outbox: {
      flush: async (ms: number) => (calls.push(`flush:${ms}`), left),
      close: () => void calls.push("close"),
      depthByKey: () => ({ k: left }),
    },
  };
}

describe("runtime and lifecycle", () => {
  it("stop: sources first, then the flush, then close; undelivered events are reported", async () => {
    const lines: string[] = [];
    const { outbox, calls } = fakeOutbox(2);
    const rt = new SidecarRuntime({
      log: createLogger("INFO", {}, (l) => lines.push(l)),
      stopSources: async () => void calls.push("sources"),
      outbox,
      flushMs: 50,
      undeliveredHint: "a snapshot repairs it",
    });
    expect(await rt.stop()).toEqual({ exitCode: 0, reason: "stop requested", undelivered: 2 });
    expect(calls).toEqual(["sources", "flush:50", "close"]);
    expect(lines.some((l) => l.includes('"level":"ERROR"') && l.includes("a snapshot repairs it"))).toBe(true);
    expect((await rt.finished).exitCode).toBe(0);
  });

  it("SIGTERM stops and exits with the stop's code; a second signal exits 1 at once", async () => {
    const signals = new EventEmitter();
    let release!: () => void;
    const service = {
      stop: () => new Promise<{ exitCode: number; reason: string }>((r) => (release = () => r({ exitCode: 0, reason: "stop" }))),
      finished: new Promise<never>(() => {}),
    };
    const exits: number[] = [];
    const ran = runUntilStopped(service, { log: quiet, exit: (c) => exits.push(c), signals: signals as unknown as NodeJS.Process });
    signals.emit("SIGTERM");
    expect(exits).toEqual([]);
    signals.emit("SIGINT");
    expect(await ran).toBe(1);
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(exits).toEqual([1]);
    expect(signals.listenerCount("SIGTERM")).toBe(0);
  });

  it("a give-up lingers unhealthy, then exits with its code (ExitCode.ConfigRejected)", async () => {
    const { outbox } = fakeOutbox(0);
    const rt = new SidecarRuntime({ log: quiet, stopSources: async () => {}, outbox, flushMs: 10 });
    const exits: number[] = [];
    const t0 = Date.now();
    const ran = runUntilStopped(rt, {
      log: quiet,
      unhealthyLingerMs: 150,
      exit: (c) => exits.push(c),
      signals: new EventEmitter() as unknown as NodeJS.Process,
    });
    rt.giveUp(new Error("4004 Authentication failed"), ExitCode.ConfigRejected);
    expect(rt.fatal).toMatch(/4004/);
    expect(await ran).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(exits).toEqual([3]);
  });
});
