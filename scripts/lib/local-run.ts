/**
 * The directory of one `npm start` (default `.wrangler`, `LOCAL_RUN_DIR` chooses another): the
 * Worker's local state, the settings file wrangler reads, the simulator's signing key, and what the
 * helper scripts (dev-token, post-event, watch) need to reach the running system. A lock file
 * keeps a second `npm start` from taking over a directory in use.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface LocalRun {
  workerUrl: string;
  /** The simulator's base URL; null when running against Discord. */
  controlUrl: string | null;
  guildId: string;
  hubSecret: string;
}

export function runDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOCAL_RUN_DIR || ".wrangler";
}

export const localRunFile = (dir = runDir()) => join(dir, "local-run.json");
const lockFile = (dir: string) => join(dir, "npm-start.pid");

export function readLocalRun(dir = runDir()): LocalRun {
  try {
    return JSON.parse(readFileSync(localRunFile(dir), "utf8")) as LocalRun;
  } catch {
    throw new Error(`${localRunFile(dir)} not found: start the system with \`npm start\` first${dir === ".wrangler" ? "" : ` (LOCAL_RUN_DIR=${dir})`}.`);
  }
}

export function writeLocalRun(dir: string, run: LocalRun): void {
  writeFileSync(localRunFile(dir), JSON.stringify(run, null, 2), { mode: 0o600 });
}

/** The pid of a live `npm start` holding `dir`, or null (a stale lock from a killed run is ignored). */
export function lockHolder(dir: string): number | null {
  if (!existsSync(lockFile(dir))) return null;
  const pid = Number(readFileSync(lockFile(dir), "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM" ? pid : null;
  }
}

/** Takes `dir` for this process; throws when another live run holds it. */
export function lockRunDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const holder = lockHolder(dir);
  if (holder !== null) {
    throw new Error(
      `Another \`npm start\` (pid ${holder}) is running from ${dir}. Stop it first, or run this one elsewhere: LOCAL_RUN_DIR=.wrangler-2 WORKER_PORT=8797 SIM_PORT=8791 HEALTH_CHECK_PORT=8082 npm start`,
    );
  }
  writeFileSync(lockFile(dir), `${process.pid}\n`);
}

/** Releases `dir` (only if this process holds it) and removes what the helper scripts read. */
export function unlockRunDir(dir: string): void {
  try {
    if (readFileSync(lockFile(dir), "utf8").trim() !== String(process.pid)) return;
    rmSync(lockFile(dir), { force: true });
    rmSync(localRunFile(dir), { force: true });
  } catch {
    // never locked
  }
}
