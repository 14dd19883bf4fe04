/**
 * The stop sequence every sidecar shares, whether asked to stop (SIGTERM) or giving up: stop the
 * sources of new events, flush the outbox within a deadline, close it, report what was not
 * delivered, and resolve `finished` with the exit code. `fatal` records why the process gives up
 * (the /health report shows it) and starts the same sequence with a non-zero code.
 */
import type { Logger } from "@spell-coven/common";
import { ExitCode } from "./lifecycle.ts";

export interface StopResult {
  exitCode: number;
  reason: string;
  /** Events still queued when the flush deadline passed (0 = everything delivered). */
  undelivered: number;
}

/** What the runtime needs of an outbox. */
export interface FlushableOutbox {
  flush(deadlineMs: number): Promise<number>;
  close(): void;
  depthByKey(): Record<string, number>;
}

export interface SidecarRuntimeOptions {
  log: Logger;
  /** Stops whatever produces events (gateway shards, links); first step of every stop. */
  stopSources: () => Promise<void>;
  outbox: FlushableOutbox;
  /** Default flush deadline. */
  flushMs: number;
  /** Said in the ERROR line when events are left, e.g. what repairs them after a restart. */
  undeliveredHint?: string;
}

export class SidecarRuntime {
  private fatalReason: string | null = null;
  private stopping: Promise<StopResult> | null = null;
  private resolveFinished!: (r: StopResult) => void;
  /** Resolves once stopped, by stop() (exit code 0) or by fatal() (its code). */
  readonly finished = new Promise<StopResult>((r) => (this.resolveFinished = r));

  constructor(private readonly opts: SidecarRuntimeOptions) {}

  /** Why the process is giving up, or null. */
  get fatal(): string | null {
    return this.fatalReason;
  }

  get isStopping(): boolean {
    return this.stopping !== null;
  }

  /**
   * Gives up: logs an ERROR naming the cause and that operator action is needed, then stops with
   * `exitCode` (default 1, transient: the restart policy takes over). Later calls are ignored.
   */
  giveUp(err: Error, exitCode: number = ExitCode.Transient): void {
    if (this.fatalReason || this.stopping) return;
    this.fatalReason = err.message;
    const action = err.message.includes("Operator action") ? "" : " Operator action is needed.";
    this.opts.log.error(`fatal: ${err.message}${action} Exiting with a non-zero code so the restart policy takes over.`, {
      err: { name: err.name, message: err.message },
    });
    this.begin(exitCode, err.message, this.opts.flushMs);
  }

  /** Stops on request (exit code 0), or returns the stop already under way. */
  stop(flushMs = this.opts.flushMs): Promise<StopResult> {
    if (!this.stopping) {
      this.opts.log.info("stopping: closing the event sources, flushing the outbox");
      this.begin(ExitCode.Stopped, "stop requested", flushMs);
    }
    return this.stopping!;
  }

  private begin(exitCode: number, reason: string, flushMs: number): void {
    this.stopping = this.shutdown(exitCode, reason, flushMs);
    void this.stopping.then(this.resolveFinished);
  }

  private async shutdown(exitCode: number, reason: string, flushMs: number): Promise<StopResult> {
    const { log, outbox } = this.opts;
    await this.opts.stopSources().catch((err: Error) => log.warn("stopping the event sources failed", { err }));
    const undelivered = await outbox.flush(flushMs);
    outbox.close();
    if (undelivered > 0) {
      log.error(
        `stopping with events the Worker has not taken; they are lost with this process${this.opts.undeliveredHint ? ` (${this.opts.undeliveredHint})` : ""}`,
        {
          undelivered,
          byKey: outbox.depthByKey(),
        },
      );
    }
    log.info("stopped", { exitCode, reason, undelivered });
    return { exitCode, reason, undelivered };
  }
}
