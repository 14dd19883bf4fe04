/**
 * Process entry: reads the environment, starts rtc-node, stops on SIGTERM/SIGINT (the bot leaves
 * its voice channels). Exit codes (sidecar kit): 0 stopped; 1 transient (the voice link gave up:
 * restart me); 2 bad environment; 3 LINK_TOKEN refused by gateway-node (fix it first).
 * Start it with NODE_EXTRA_CA_CERTS=<the simulator's voiceCaFile> against the local simulator.
 */
import { createLogger } from "@spell-coven/common";
import { ExitCode, SidecarConfigError, runUntilStopped } from "@spell-coven/sidecar-kit";
import { loadConfig } from "./config.ts";
import { startRtcNode } from "./service.ts";

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof SidecarConfigError) {
      process.stderr.write(`rtc-node: ${err.message}\nFix the variables above and start again.\n`);
      process.exit(ExitCode.BadEnvironment);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, { service: "rtc-node" });
  const node = await startRtcNode(config, { log });
  await runUntilStopped(node, { log });
}

main().catch((err) => {
  process.stderr.write(`rtc-node: failed to start: ${(err as Error).message}\n`);
  process.exit(ExitCode.Transient);
});
