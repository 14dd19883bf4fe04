/**
 * The checks every internal (sidecar -> Worker) post passes, in order: size, HMAC signature and
 * timestamp over the raw bytes (common/src/hmac.ts), JSON, then the route's schema. Nothing is
 * applied unless all pass.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyHubRequest } from "@spell-coven/common";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "../middleware/context.ts";
import { readBodyLimited } from "./body.ts";
import { zodDetails } from "./validation.ts";

export async function readSignedJson<S extends z.ZodType>(c: Context<AppEnv>, maxBytes: number, schema: S, what: string): Promise<z.infer<S>> {
  const { HUB_SECRET } = c.get("config");
  if (!HUB_SECRET) throw new ApiError("NOT_CONFIGURED", `HUB_SECRET is not set on the Worker; ${what} are disabled.`);
  const raw = await readBodyLimited(c.req.raw, maxBytes);
  const check = await verifyHubRequest(HUB_SECRET, c.req.header(TIMESTAMP_HEADER), c.req.header(SIGNATURE_HEADER), raw);
  if (!check.ok) {
    c.get("log").warn(`internal ${what} rejected`, { reason: check.code });
    throw new ApiError(check.code, check.message);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new ApiError("INVALID_JSON", "The body is not valid JSON.");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ApiError("VALIDATION_FAILED", `The ${what} do not match the schema.`, zodDetails(parsed.error));
  return parsed.data;
}
