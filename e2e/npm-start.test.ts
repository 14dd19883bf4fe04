/**
 * `npm start` as a contributor runs it (the real npm, tsx, wrangler dev, gateway-node and the
 * simulator), each run in its own directory (LOCAL_RUN_DIR) on free ports:
 * - a second run with a taken port, or from a directory in use, stops with a message saying
 *   which and how to choose another, and the first run carries on untouched;
 * - post-event exits non-zero when the Worker refuses the post;
 * - .dev.vars-style settings (ROOM_IDLE_SECONDS) apply in simulator mode;
 * - a restart keeps the simulator's signing key (tokens stay valid) and resets the Worker's
 *   state to match the empty simulator;
 * - SIGTERM or SIGINT to npm itself stops every process under it and frees the ports.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_USERS } from "@spell-coven/simulator";
import { freePort, portTaken } from "../scripts/lib/free-port.ts";
import { isAlive, processTree } from "../scripts/lib/processes.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const runs: Run[] = [];
const dirs: string[] = [];

interface Run {
  child: ChildProcess;
  output: () => string;
  /** The exit code, or the signal that ended it (npm re-raises the one it was stopped with). */
  exit: Promise<number | string | null>;
}

function npmStart(env: Record<string, string>): Run {
  const child = spawn("npm", ["start"], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: "WARN", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const exit = new Promise<number | string | null>((r) => child.once("exit", (code, signal) => r(code ?? signal)));
  const run = { child, output: () => out, exit };
  runs.push(run);
  return run;
}

async function untilRunning(run: Run): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (!run.output().includes("Spell Coven Gateway is running.")) {
    if (run.child.exitCode !== null) throw new Error(`npm start exited ${run.child.exitCode}:\n${run.output()}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Alive and not a zombie (a killed child whose parent has not reaped it yet counts as gone). */
const alive = isAlive;

async function ports(): Promise<Record<string, string>> {
  return { WORKER_PORT: String(await freePort()), SIM_PORT: String(await freePort()), HEALTH_CHECK_PORT: String(await freePort()) };
}

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "npm-start-"));
  dirs.push(dir);
  return dir;
}

async function token(simUrl: string, userId: string): Promise<string> {
  const res = await fetch(`${simUrl}/control/token`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ userId }) });
  return ((await res.json()) as { token: string }).token;
}

async function stopAndCheck(run: Run, signal: NodeJS.Signals, used: Record<string, string>, dir: string): Promise<void> {
  const tree = processTree(run.child.pid!);
  expect(tree.length).toBeGreaterThan(4); // npm, sh/tsx, node, wrangler, workerd, gateway-node...
  run.child.kill(signal);
  expect([0, signal]).toContain(await run.exit);
  const deadline = Date.now() + 15_000;
  while (tree.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(tree.filter(alive), "processes left running").toEqual([]);
  for (const [name, port] of Object.entries(used)) expect(await portTaken(Number(port)), `${name} ${port} still taken`).toBe(false);
  expect(existsSync(join(dir, "npm-start.pid"))).toBe(false);
  expect(existsSync(join(dir, "local-run.json"))).toBe(false);
}

afterAll(async () => {
  for (const r of runs) if (r.child.exitCode === null) r.child.kill("SIGTERM");
  await Promise.all(runs.map((r) => r.exit));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("npm start", () => {
  const dir = newDir();
  let first: Run;
  let used: Record<string, string>;
  let workerUrl = "";
  let simUrl = "";

  it("starts, and applies .dev.vars-style settings with the simulator (a 2 s idle room gets its closing warning)", async () => {
    used = await ports();
    first = npmStart({ LOCAL_RUN_DIR: dir, ...used, ROOM_IDLE_SECONDS: "2", ROOM_CLOSING_WARNING_SECONDS: "120" });
    await untilRunning(first);
    expect(first.output()).toContain("ROOM_IDLE_SECONDS=2");
    const run = JSON.parse(readFileSync(join(dir, "local-run.json"), "utf8")) as { workerUrl: string; controlUrl: string };
    workerUrl = run.workerUrl;
    simUrl = run.controlUrl;
    const auth = { Authorization: `Bearer ${await token(simUrl, DEMO_USERS.alice)}`, "Content-Type": "application/json" };
    const created = await fetch(`${workerUrl}/api/create-room`, { method: "POST", headers: auth, body: JSON.stringify({ name: "Idle table" }) });
    expect(created.status).toBe(201);
    const deadline = Date.now() + 30_000;
    let closingAt: number | null = null;
    while (closingAt === null && Date.now() < deadline) {
      const list = (await (await fetch(`${workerUrl}/api/rooms`, { headers: auth })).json()) as { rooms: { closingAt: number | null }[] };
      closingAt = list.rooms[0]?.closingAt ?? null;
      if (closingAt === null) await new Promise((r) => setTimeout(r, 500));
    }
    expect(closingAt).not.toBeNull();
  }, 120_000);

  it("a second run on a taken port says which port and which variable, and leaves the first alone", async () => {
    const before = readFileSync(join(dir, "local-run.json"), "utf8");
    const second = npmStart({ LOCAL_RUN_DIR: newDir(), ...(await ports()), WORKER_PORT: used.WORKER_PORT! });
    await expect(second.exit).resolves.toBe(1);
    expect(second.output()).toContain(`Port ${used.WORKER_PORT} (WORKER_PORT) is taken`);
    expect(second.output()).toMatch(/WORKER_PORT=\d+ npm start/);
    const third = npmStart({ LOCAL_RUN_DIR: dir, ...(await ports()) });
    await expect(third.exit).resolves.toBe(1);
    const holder = Number(/Another `npm start` \(pid (\d+)\)/.exec(third.output())?.[1]);
    expect(processTree(first.child.pid!)).toContain(holder); // the first run's own process
    expect(third.output()).toContain("LOCAL_RUN_DIR=");
    // post-event: a snapshot of the simulator is accepted, a refused post exits non-zero
    const snapshot = spawnSync("npx", ["tsx", "scripts/post-event.ts", "snapshot"], {
      cwd: ROOT,
      env: { ...process.env, LOCAL_RUN_DIR: dir },
      encoding: "utf8",
    });
    expect(snapshot.status, snapshot.stderr).toBe(0);
    const refused = spawnSync("npx", ["tsx", "scripts/post-event.ts", "joined", "not-a-user-id"], {
      cwd: ROOT,
      env: { ...process.env, LOCAL_RUN_DIR: dir },
      encoding: "utf8",
    });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("The Worker refused the event: 400");
    // the first run is untouched and still serving
    expect(readFileSync(join(dir, "local-run.json"), "utf8")).toBe(before);
    expect((await fetch(`${workerUrl}/health`)).status).toBe(200);
  }, 60_000);

  it("SIGTERM to npm stops every child and frees the ports; a restart keeps tokens valid and starts with no ghost tables", async () => {
    const oldToken = await token(simUrl, DEMO_USERS.bob);
    await stopAndCheck(first, "SIGTERM", used, dir);
    const again = npmStart({ LOCAL_RUN_DIR: dir, ...used });
    await untilRunning(again);
    const res = await fetch(`${workerUrl}/api/rooms`, { headers: { Authorization: `Bearer ${oldToken}` } });
    expect(res.status).toBe(200); // signed with the same key as before the restart
    expect(((await res.json()) as { rooms: unknown[] }).rooms).toEqual([]); // the simulator is empty, so is the Worker
    await stopAndCheck(again, "SIGINT", used, dir);
  }, 150_000);
});
