/**
 * Runs in Node before the workerd tests: a loopback identity provider (JWKS of a fresh RSA key,
 * whose private half is handed to the tests so they can mint tokens of every kind) and the
 * project's Discord simulator (as its own process, driven over its HTTP control API).
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { startDevIdp } from "../../scripts/lib/dev-idp.ts";

declare module "vitest" {
  export interface ProvidedContext {
    idpUrl: string;
    privateJwk: Record<string, unknown>;
    publicJwk: Record<string, unknown>;
    discordApiBase: string;
    discordControlUrl: string;
    botToken: string;
    guildId: string;
    otherGuildId: string;
  }
}

async function startSimulatorProcess() {
  const cli = fileURLToPath(new URL("../../simulator/src/cli.ts", import.meta.url));
  const child = spawn("tsx", [cli, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const info = JSON.parse(line) as { url: string; apiBase: string; botToken: string; guildId: string };
  return { ...info, close: () => new Promise<void>((r) => (child.once("exit", () => r()), child.kill("SIGTERM"))) };
}

export default async function setup(project: TestProject) {
  // Issuer and audience must match JWT_ISSUER / JWT_AUDIENCE in worker/vitest.config.ts.
  const [idp, sim] = await Promise.all([startDevIdp({ kid: "test-key-1", issuer: "https://idp.test", audience: "spell-coven-test" }), startSimulatorProcess()]);
  const other = await fetch(`${sim.url}/control/addGuild`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: "Other Guild" }) });
  const otherGuild = ((await other.json()) as { result: { id: string } }).result;

  project.provide("idpUrl", idp.url);
  project.provide("privateJwk", idp.privateJwk);
  project.provide("publicJwk", idp.publicJwk);
  project.provide("discordApiBase", sim.apiBase);
  project.provide("discordControlUrl", `${sim.url}/control`);
  project.provide("botToken", sim.botToken);
  project.provide("guildId", sim.guildId);
  project.provide("otherGuildId", otherGuild.id);

  return async () => {
    await sim.close();
    await idp.close();
  };
}
