/**
 * Runs the simulator as a process: `npx tsx simulator/src/cli.ts [--port N] [--host H]
 * [--dave-version 0|1] [--no-voice]` (or env SIM_PORT). Prints one JSON line with the URLs (and
 * the voice server's CA file for NODE_EXTRA_CA_CERTS), then serves until SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { DEMO_GUILD_ID, startSimulator } from "./index.ts";

const { values } = parseArgs({
  options: { port: { type: "string" }, host: { type: "string" }, "dave-version": { type: "string" }, "no-voice": { type: "boolean" } },
  strict: true,
});

const port = Number(values.port ?? process.env.SIM_PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`simulator: invalid port ${values.port ?? process.env.SIM_PORT}`);
  process.exit(2);
}

const daveVersion = values["dave-version"] ?? "1";
if (daveVersion !== "0" && daveVersion !== "1") {
  console.error(`simulator: --dave-version must be 0 or 1, not ${daveVersion}`);
  process.exit(2);
}
const sim = await startSimulator({
  port,
  ...(values.host && { host: values.host }),
  voice: values["no-voice"] ? false : { daveVersion: daveVersion === "1" ? 1 : 0 },
});
console.log(
  JSON.stringify({
    url: sim.url,
    apiBase: sim.apiBase,
    gatewayUrl: sim.gatewayUrl,
    jwksUrl: sim.jwksUrl,
    jwtIssuer: sim.jwtIssuer,
    jwtAudience: sim.jwtAudience,
    botToken: sim.botToken,
    guildId: DEMO_GUILD_ID,
    controlPage: `${sim.url}/`,
    voiceEndpoint: sim.voice?.endpoint ?? null,
    voiceCaFile: sim.voice?.certificate.caFile ?? null,
  }),
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void sim.close().then(() => process.exit(0));
  });
}
