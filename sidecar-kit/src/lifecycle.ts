/**
 * The process around a service: SIGTERM/SIGINT stop it (flush, then exit with its code; a second
 * signal exits at once with 1), and a service that gives up by itself keeps reporting `unhealthy`
 * on /health for `unhealthyLingerMs` before the process exits with its code, so a health checker
 * or an operator watching sees why before the restart policy takes over.
 */
import type { Logger } from "@spell-coven/common";

/**
 * Exit codes shared by the sidecars, so one restart policy fits all of them (systemd
 * `RestartPreventExitStatus=2 3`): 1 restart me, 2 and 3 fix the configuration first.
 */
export const ExitCode = {
  /** Stopped on request (SIGTERM / SIGINT) after flushing. */
  Stopped: 0,
  /** Gave up on something transient (a peer unreachable): restart. */
  Transient: 1,
  /** The environment is invalid (the message names the variable). */
  BadEnvironment: 2,
  /** A peer (Discord) rejected the configuration (a bad token, shards, intents). */
  ConfigRejected: 3,
} as const;

/** What a service's stop or give-up resolves with. */
export interface ServiceResult {
  exitCode: number;
  reason: string;
}

/** A running service: `finished` resolves when it stopped (by itself, or after stop()). */
export interface LifecycleService {
  stop(): Promise<ServiceResult>;
  readonly finished: Promise<ServiceResult>;
}

export interface LifecycleOptions {
  log: Logger;
  /** How long /health keeps saying `unhealthy` after a give-up before the process exits. Default 3000 ms. */
  unhealthyLingerMs?: number;
  /** Default process.exit. */
  exit?: (code: number) => void;
  /** Where SIGTERM / SIGINT come from. Default process. */
  signals?: Pick<NodeJS.Process, "on" | "off">;
}

/**
 * Runs `service` until a signal or a give-up, then exits. Resolves with the exit code passed to
 * `exit` (useful when `exit` does not end the process, as in tests).
 */
export function runUntilStopped(service: LifecycleService, opts: LifecycleOptions): Promise<number> {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const signals = opts.signals ?? process;
  const lingerMs = opts.unhealthyLingerMs ?? 3000;
  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      signals.off("SIGTERM", onTerm);
      signals.off("SIGINT", onInt);
      resolve(code);
      exit(code);
    };
    let signalled = false;
    const onSignal = (signal: string) => {
      if (signalled) {
        opts.log.warn("second signal: exiting now", { signal });
        return finish(1);
      }
      signalled = true;
      opts.log.info("signal received", { signal });
      void service.stop().then(
        (r) => finish(r.exitCode),
        () => finish(1),
      );
    };
    const onTerm = () => onSignal("SIGTERM");
    const onInt = () => onSignal("SIGINT");
    signals.on("SIGTERM", onTerm);
    signals.on("SIGINT", onInt);
    void service.finished.then(async (result) => {
      if (signalled || result.exitCode === 0) return;
      opts.log.info("exiting after the health check has reported unhealthy", { exitCode: result.exitCode, inMs: lingerMs });
      await new Promise((r) => setTimeout(r, lingerMs));
      if (done) return;
      await service.stop().catch(() => undefined);
      finish(result.exitCode);
    });
  });
}
