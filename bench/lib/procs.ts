/**
 * What the benchmarks learn about server processes from /proc (Linux): the process tree under a
 * child, each process's CPU time and resident memory, and the loopback ports it listens on.
 */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

export interface ProcInfo {
  pid: number;
  name: string;
  /** The command line, arguments joined by spaces. */
  cmdline: string;
  /** User + system CPU time so far, in ms. */
  cpuMs: number;
  rssBytes: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

function readProc(pid: number): (ProcInfo & { ppid: number }) | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    return { pid, ppid: Number(f[1]), name, cmdline, cpuMs: (Number(f[11]) + Number(f[12])) * TICK_MS, rssBytes: rss ? Number(rss[1]) * 1024 : 0 };
  } catch {
    return null; // ended while listing
  }
}

/** The process and all its descendants. */
export function processTree(rootPid: number): ProcInfo[] {
  const all = readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map((e) => readProc(Number(e)))
    .filter((p) => p !== null);
  const out: ProcInfo[] = [];
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    const p = all.find((x) => x.pid === pid);
    if (p) out.push(p);
    for (const child of all) if (child.ppid === pid) stack.push(child.pid);
  }
  return out;
}

export const treeRss = (rootPid: number) => processTree(rootPid).reduce((sum, p) => sum + p.rssBytes, 0);

/** TCP ports a process listens on (IPv4), from /proc/net/tcp matched against its open sockets. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] === "0A" && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(":")[1]!, 16)); // 0A = LISTEN
  }
  return ports;
}
