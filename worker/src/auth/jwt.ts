/**
 * Player JWT verification against the identity provider's JWKS (jose).
 *
 * Strictness, on purpose: asymmetric algorithms only (so `none` and HS256-signed-with-the-public-key
 * are refused before any key is looked at), issuer and audience must match, `exp` and `sub` are
 * required, and clock tolerance is small. The remote key set is cached per isolate and refetched
 * when a token names an unknown `kid` (key rotation), at most once per cooldown.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from "jose";

export const ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];
const CLOCK_TOLERANCE_SECONDS = 30;

export interface JwtSettings {
  jwksUrl: string;
  issuer: string;
  audience: string;
}

export interface Player {
  /** The player's user id (the token's `sub`). */
  userId: string;
  /** Unix ms when the token expires. */
  expiresAt: number;
  name?: string;
  claims: JWTPayload;
}

export type TokenFailure = "TOKEN_EXPIRED" | "UNAUTHORIZED";

export class TokenError extends Error {
  override name = "TokenError";
  constructor(
    readonly code: TokenFailure,
    message: string,
  ) {
    super(message);
  }
}

const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function keySet(url: string) {
  let set = keySets.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5_000 });
    keySets.set(url, set);
  }
  return set;
}

export async function verifyPlayerToken(token: string, settings: JwtSettings): Promise<Player> {
  try {
    const { payload } = await jwtVerify(token, keySet(settings.jwksUrl), {
      algorithms: ALLOWED_ALGORITHMS,
      issuer: settings.issuer,
      audience: settings.audience,
      requiredClaims: ["exp", "sub"],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
    return {
      userId: payload.sub!,
      expiresAt: payload.exp! * 1000,
      ...(typeof payload.name === "string" ? { name: payload.name } : {}),
      claims: payload,
    };
  } catch (err) {
    throw toTokenError(err);
  }
}

function toTokenError(err: unknown): TokenError {
  if (err instanceof errors.JWTExpired) return new TokenError("TOKEN_EXPIRED", "The token has expired; sign in again.");
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new TokenError("UNAUTHORIZED", `The token's "${err.claim}" claim is not accepted here (${err.reason}).`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return new TokenError("UNAUTHORIZED", "The token's signing algorithm is not accepted.");
  if (err instanceof errors.JWKSNoMatchingKey) return new TokenError("UNAUTHORIZED", "The token was signed with a key this server does not know.");
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenError("UNAUTHORIZED", "The token's signature is invalid.");
  if (err instanceof errors.JWKSTimeout || (err instanceof errors.JOSEError && err.code === "ERR_JOSE_GENERIC")) {
    return new TokenError("UNAUTHORIZED", "The identity provider's keys could not be fetched; try again shortly.");
  }
  if (err instanceof errors.JOSEError) return new TokenError("UNAUTHORIZED", "The token is malformed or invalid.");
  return new TokenError("UNAUTHORIZED", "The token could not be verified.");
}
