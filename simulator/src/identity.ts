/**
 * The identity provider for the local run: an RS256 key pair made at start, its public half as a
 * JWKS, and development JWTs for simulated users, so the Worker's real JWT verification
 * (JWT_PUBLIC_JWK_URL, JWT_ISSUER, JWT_AUDIENCE) runs unchanged against it.
 */
import { randomBytes } from "node:crypto";
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from "jose";

export const DEFAULT_JWT_AUDIENCE = "spell-coven-web";
const ALG = "RS256";

export interface MintOptions {
  expiresInSeconds?: number;
  audience?: string;
  issuer?: string;
}

export class IdentityProvider {
  private constructor(
    private readonly privateKey: CryptoKey,
    readonly jwks: { keys: JWK[] },
    private readonly kid: string,
    readonly issuer: string,
    readonly audience: string,
  ) {}

  static async create(issuer: string, audience: string, signingKey?: JWK): Promise<IdentityProvider> {
    if (signingKey) {
      if (!signingKey.kid || !signingKey.d) throw new Error("jwt.signingKey must be a private JWK with a kid");
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = signingKey;
      const privateKey = (await importJWK({ ...signingKey, alg: ALG }, ALG)) as CryptoKey;
      return new IdentityProvider(privateKey, { keys: [{ ...publicJwk, alg: ALG, use: "sig" }] }, signingKey.kid, issuer, audience);
    }
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = `sim-${randomBytes(6).toString("hex")}`;
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: "sig" };
    return new IdentityProvider(privateKey, { keys: [jwk] }, kid, issuer, audience);
  }

  /** A JWT with iss, aud, sub (the user id), iat, exp and `name` (the username). */
  mint(userId: string, username: string, opts: MintOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ name: username })
      .setProtectedHeader({ alg: ALG, kid: this.kid, typ: "JWT" })
      .setSubject(userId)
      .setIssuer(opts.issuer ?? this.issuer)
      .setAudience(opts.audience ?? this.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + (opts.expiresInSeconds ?? 3600))
      .sign(this.privateKey);
  }
}

/** A new RS256 private key as a JWK with a kid, for `jwt.signingKey` (kept by whoever wants tokens to survive restarts). */
export async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: `sim-${randomBytes(6).toString("hex")}`, alg: ALG };
}
