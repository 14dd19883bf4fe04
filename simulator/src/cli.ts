/**
 * Runs the simulator as a process: `npx tsx simulator/src/cli.ts [--port N] [--host H]`
 * (or env SIM_PORT). Prints one JSON line with the URLs, then serves until SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { DEMO_GUILD_ID, startSimulator } from "./index.ts";

const { values } = parseArgs({
  options: { port: { type: "string" }, host: { type: "string" } },
  strict: true,
});

const port = Number(values.port ?? process.env.SIM_PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`simulator: invalid port ${values.port ?? process.env.SIM_PORT}`);
  process.exit(2);
}

const sim = await startSimulator({ port, ...(values.host && { host: values.host }) });
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
  }),
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void sim.close().then(() => process.exit(0));
  });
}
