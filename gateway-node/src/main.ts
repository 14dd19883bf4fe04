/**
 * Process entry: reads the environment, starts gateway-node, handles SIGTERM/SIGINT (stop shards,
 * flush the outbox, exit 0) and fatal errors (exit 1 so the restart policy takes over).
 * Exit codes: 0 stopped on request; 1 gave up on a transient problem (5 failed reconnects, Discord
 * unreachable): restart me; 2 bad environment; 3 Discord rejected the configuration (4004 bad
 * token, 4010-4014 shards/intents): fix it before restarting (the ERROR log says what to fix).
 */
import { createLogger } from "@spell-coven/common";
import { ExitCode, SidecarConfigError, runUntilStopped } from "@spell-coven/sidecar-kit";
import { loadConfig } from "./config.ts";
import { startGatewayNode } from "./index.ts";

async function main(): Promise<void> {
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig(process.env);
  } catch (err) {
    if (err instanceof SidecarConfigError) {
      process.stderr.write(`gateway-node: ${err.message}\nFix the variables above and start again.\n`);
      process.exit(ExitCode.BadEnvironment);
    }
    throw err;
  }
  const { config, warnings } = loaded;
  const log = createLogger(config.logLevel, { service: "gateway-node" });
  for (const w of warnings) log.warn(w);
  const node = await startGatewayNode(config, { log });
  await runUntilStopped(node, { log, unhealthyLingerMs: config.tuning.unhealthyLingerMs });
}

main().catch((err) => {
  process.stderr.write(`gateway-node: failed to start: ${(err as Error).message}\n`);
  process.exit(ExitCode.Transient);
});
