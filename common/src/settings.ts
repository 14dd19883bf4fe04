/**
 * Settings the Worker and the sidecars share, validated by one rule everywhere, so a value that
 * one side accepts is never refused by the other.
 */
import { z } from "zod";

/** Shortest HUB_SECRET accepted: 32 characters (`openssl rand -hex 32` gives 64). */
export const HUB_SECRET_MIN_LENGTH = 32;

/** HUB_SECRET: the HMAC key of every internal post, shared by the Worker and the sidecars. */
export const HubSecretSetting = z
  .string({ error: "is required: the secret shared by the Worker and the sidecars" })
  .min(HUB_SECRET_MIN_LENGTH, `must be at least ${HUB_SECRET_MIN_LENGTH} characters: use a long random value (openssl rand -hex 32)`);
