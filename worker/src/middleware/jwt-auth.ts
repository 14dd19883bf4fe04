/** Bearer JWT check for player-facing routes; sets `player` on the context. */
import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors.ts";
import { TokenError, verifyPlayerToken } from "../auth/jwt.ts";
import type { AppEnv } from "./context.ts";

export const jwtAuth = createMiddleware<AppEnv>(async function jwtAuth(c, next) {
  const header = c.req.header("Authorization") ?? "";
  const match = /^Bearer ([\w-]+\.[\w-]*\.[\w-]*)$/.exec(header);
  if (!match) throw new ApiError("UNAUTHORIZED", 'Send the player token as "Authorization: Bearer <JWT>".');
  const config = c.get("config");
  try {
    c.set("player", await verifyPlayerToken(match[1]!, { jwksUrl: config.JWT_PUBLIC_JWK_URL, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }));
  } catch (err) {
    if (err instanceof TokenError) {
      c.get("log").info("jwt rejected", { reason: err.message });
      throw new ApiError(err.code, err.message);
    }
    throw err;
  }
  await next();
});
