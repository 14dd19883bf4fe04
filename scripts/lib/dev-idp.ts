/**
 * A loopback identity provider for tests and benchmarks: one fresh RS256 key, its JWKS on
 * 127.0.0.1, and a minter. The private JWK is exposed too, for tests that forge tokens of every
 * kind (expired, wrong audience...) themselves.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair } from "jose";

export async function startDevIdp(opts: { kid: string; issuer: string; audience: string }) {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: opts.kid, alg: "RS256", use: "sig" };
  const privateJwk = { ...(await exportJWK(privateKey)), kid: opts.kid, alg: "RS256" };
  const server = createServer((req, res) => {
    if (req.url === "/.well-known/jwks.json") res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ keys: [publicJwk] }));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    jwksUrl: `${url}/.well-known/jwks.json`,
    publicJwk,
    privateJwk,
    mint: (sub: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: "RS256", kid: opts.kid })
        .setSubject(sub)
        .setIssuer(opts.issuer)
        .setAudience(opts.audience)
        .setExpirationTime("1h")
        .sign(privateKey),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
