/** A loopback identity provider for benchmarks: one RS256 key, its JWKS, and a token minter. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair } from "jose";

export const ISSUER = "https://idp.bench";
export const AUDIENCE = "spell-coven-bench";

export async function startIdp() {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "bench", alg: "RS256", use: "sig" };
  const server = createServer((req, res) => {
    if (req.url === "/.well-known/jwks.json") res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    jwksUrl: `${url}/.well-known/jwks.json`,
    mint: (sub: string) =>
      new SignJWT({}).setProtectedHeader({ alg: "RS256", kid: "bench" }).setSubject(sub).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime("1h").sign(privateKey),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
