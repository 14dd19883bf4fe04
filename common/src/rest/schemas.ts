/**
 * Input validation for DiscordRestClient, run before any request: a bad input never reaches
 * Discord, so it never counts toward Discord's invalid-request limit. Limits from Discord's docs
 * (research/discord-facts.md section 2).
 */
import { z } from "zod";
import { DiscordInputError, type InputIssue } from "./errors.ts";

const MAX_U64 = (1n << 64n) - 1n;

/** A snowflake: an unsigned 64-bit integer written in decimal. */
export const snowflake = z
  .string()
  .refine((s) => /^\d{1,20}$/.test(s) && BigInt(s) <= MAX_U64 && BigInt(s) > 0n, "must be a Discord id (snowflake): a decimal number from 1 to 2^64-1");

/** Permission bit sets are decimal strings (bits exceed 2^53); bigint is accepted and converted. */
export const permissionBits = z
  .union([z.string().regex(/^\d{1,20}$/, "must be a permission bit set as a decimal string"), z.bigint().nonnegative()])
  .transform((v) => String(v));

/** X-Audit-Log-Reason: 1-512 characters (sent URL-encoded). */
export const auditReason = z
  .string()
  .refine((s) => [...s].length >= 1 && [...s].length <= 512, "audit-log reason must be 1-512 characters")
  .optional();

export const writeOptions = z.object({ reason: auditReason }).strict();

export const overwrite = z
  .object({
    id: snowflake,
    /** 0 = role, 1 = member */
    type: z.union([z.literal(0), z.literal(1)]),
    allow: permissionBits.nullish(),
    deny: permissionBits.nullish(),
  })
  .strict();

const channelName = z
  .string()
  .refine((s) => s.trim().length > 0, "channel name must not be empty")
  .refine((s) => [...s].length <= 100, "channel name must be at most 100 characters");

export const createVoiceChannelInput = z.object({
  guildId: snowflake,
  name: channelName,
  opts: z
    .object({
      parentId: snowflake.optional(),
      userLimit: z.number().int("user limit must be a whole number").min(0).max(99, "user limit of a voice channel is 0 (unlimited) to 99").optional(),
      bitrate: z.number().int().min(8000).max(384_000).optional(),
      permissionOverwrites: z.array(overwrite).max(100).optional(),
      reason: auditReason,
    })
    .strict(),
});

export const deleteChannelInput = z.object({ channelId: snowflake, opts: writeOptions });
export const guildIdInput = z.object({ guildId: snowflake });

export const sendMessageInput = z.object({
  channelId: snowflake,
  content: z
    .string()
    .refine((s) => s.trim().length > 0, "message content must not be empty")
    .refine((s) => [...s].length <= 2000, "message content must be at most 2000 characters"),
  opts: z
    .object({
      /** De-duplication: the same nonce within a few minutes returns the first message. Defaults to a random one. */
      nonce: z.string().min(1).max(25).optional(),
      tts: z.boolean().optional(),
      replyTo: snowflake.optional(),
      allowedMentions: z
        .object({
          parse: z.array(z.enum(["roles", "users", "everyone"])).optional(),
          roles: z.array(snowflake).max(100).optional(),
          users: z.array(snowflake).max(100).optional(),
          repliedUser: z.boolean().optional(),
        })
        .strict()
        .optional(),
      flags: z.number().int().nonnegative().optional(),
    })
    .strict(),
});

export const createRoleInput = z.object({
  guildId: snowflake,
  opts: z
    .object({
      name: z.string().max(100, "role name must be at most 100 characters").optional(),
      permissions: permissionBits.optional(),
      color: z.number().int().min(0).max(0xffffff).optional(),
      hoist: z.boolean().optional(),
      mentionable: z.boolean().optional(),
      reason: auditReason,
    })
    .strict(),
});

export const deleteRoleInput = z.object({ guildId: snowflake, roleId: snowflake, opts: writeOptions });
export const memberRoleInput = z.object({ guildId: snowflake, userId: snowflake, roleId: snowflake, opts: writeOptions });
export const moveMemberInput = z.object({ guildId: snowflake, userId: snowflake, channelId: snowflake.nullable(), opts: writeOptions });

/** A unicode emoji, or a custom one as `name:id` (also accepts `<:name:id>` / `<a:name:id>`). */
export const emoji = z
  .string()
  .min(1, "emoji must not be empty")
  .max(100)
  .refine((s) => !/^\d+$/.test(s), "a custom emoji must be given as name:id")
  .refine((s) => !/[\s/?#]/.test(s), "emoji must be one unicode emoji or name:id")
  .refine((s) => {
    const m = /^<?a?:?([A-Za-z0-9_~]+):(\d+)>?$/.exec(s);
    return !m || snowflake.safeParse(m[2]).success;
  }, "custom emoji id must be a snowflake")
  .transform((s) => {
    const m = /^<a?:([A-Za-z0-9_~]+):(\d+)>$/.exec(s);
    return m ? `${m[1]}:${m[2]}` : s;
  });

export const getMessagesInput = z.object({
  channelId: snowflake,
  opts: z
    .object({
      limit: z.number().int("limit must be a whole number").min(1, "limit is 1-100").max(100, "limit is 1-100").optional(),
      before: snowflake.optional(),
      after: snowflake.optional(),
    })
    .strict()
    .refine((o) => o.before === undefined || o.after === undefined, { message: "before and after are mutually exclusive", path: ["after"] }),
});

export const reactionInput = z.object({ channelId: snowflake, messageId: snowflake, emoji });
export const channelIdInput = z.object({ channelId: snowflake });

/** Parses or throws DiscordInputError listing every issue. */
export function validate<S extends z.ZodType>(operation: string, schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues: InputIssue[] = r.error.issues.map((i) => ({
    field: i.path
      .filter((p) => p !== "opts")
      .map(String)
      .join("."),
    message: i.message,
  }));
  throw new DiscordInputError(operation, issues);
}
