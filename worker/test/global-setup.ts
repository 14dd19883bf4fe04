/**
 * Runs in Node before the workerd tests: a loopback identity provider (JWKS of a fresh RSA key,
 * whose private half is handed to the tests so they can mint tokens of every kind) and the
 * project's Discord simulator for REST calls.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import type { TestProject } from "vitest/node";

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

export default async function setup(project: TestProject) {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: "test-key-1", alg: "RS256", use: "sig" };
  const privateJwk = { ...(await exportJWK(privateKey)), kid: "test-key-1", alg: "RS256" };

  const idp = createServer((req, res) => {
    if (req.url === "/.well-known/jwks.json") {
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ keys: [publicJwk] }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => idp.listen(0, "127.0.0.1", r));
  const idpUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;

  // TEMP until the simulator lands
  const sim = { apiBase: "http://127.0.0.1:1/api/v10", url: "http://127.0.0.1:1", botToken: "x", close: async () => {} };
  const guilds = [{ id: "1100000000000000001" }];
  const other = { id: "1100000000000000002" };

  project.provide("idpUrl", idpUrl);
  project.provide("privateJwk", privateJwk);
  project.provide("publicJwk", publicJwk);
  project.provide("discordApiBase", sim.apiBase);
  project.provide("discordControlUrl", `${sim.url}/control`);
  project.provide("botToken", sim.botToken);
  project.provide("guildId", guilds[0]!.id);
  project.provide("otherGuildId", other.id);

  return async () => {
    await sim.close();
    await new Promise((r) => idp.close(r));
  };
}
