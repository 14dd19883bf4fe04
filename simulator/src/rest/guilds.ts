/** Guild routes: channels (list, create), roles (list, create, delete), member roles (add, remove), member voice (move, server mute / deafen). */
import { ChannelType, OverwriteType } from "discord-api-types/v10";
import { FormErrors } from "../errors.ts";
import { isSnowflake } from "../snowflake.ts";
import { SUPPORTED_CHANNEL_TYPES, type ChannelInput, type SimChannelType } from "../world.ts";
import { noContent, objectBody, ok, type RouteContext, type RouteResult } from "./context.ts";

export function listChannels({ params, env }: RouteContext): RouteResult {
  return ok(env.world.channels(params.guild_id!));
}

export function createChannel({ params, body, env }: RouteContext): RouteResult {
  const guildId = params.guild_id!;
  env.world.channels(guildId); // Unknown Guild before any field error, as Discord answers
  const input = parseChannelInput(objectBody(body), (id) => env.world.isCategory(guildId, id));
  return ok(env.world.createChannel(guildId, input), 201);
}

export function listRoles({ params, env }: RouteContext): RouteResult {
  return ok(env.world.roles(params.guild_id!));
}

export function createRole({ params, body, env }: RouteContext): RouteResult {
  const b = objectBody(body);
  const form = new FormErrors();
  const name = optional(b.name, "string", ["name"], form);
  if (typeof name === "string" && name.length > 100) form.add(["name"], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.");
  const permissions = b.permissions;
  if (permissions != null && !(typeof permissions === "string" && /^\d+$/.test(permissions))) {
    form.add(["permissions"], "NUMBER_TYPE_COERCE", `Value "${String(permissions)}" is not snowflake.`);
  }
  const color = optional(b.color, "number", ["color"], form);
  const hoist = optional(b.hoist, "boolean", ["hoist"], form);
  const mentionable = optional(b.mentionable, "boolean", ["mentionable"], form);
  form.throwIfAny();
  const role = env.world.createRole(params.guild_id!, {
    ...(typeof name === "string" && { name }),
    ...(typeof permissions === "string" && { permissions }),
    ...(typeof color === "number" && { color }),
    ...(typeof hoist === "boolean" && { hoist }),
    ...(typeof mentionable === "boolean" && { mentionable }),
  });
  return ok(role);
}

export function deleteRole({ params, env }: RouteContext): RouteResult {
  env.world.deleteRole(params.guild_id!, params.role_id!);
  return noContent;
}

export function addMemberRole({ params, env }: RouteContext): RouteResult {
  env.world.addMemberRole(params.guild_id!, params.user_id!, params.role_id!);
  return noContent;
}

/**
 * Modify Guild Member. The simulator supports the voice fields: `channel_id` (move to a voice
 * channel, or null to disconnect; Move Members), `mute` and `deaf` (server mute / deafen; Mute
 * Members, Deafen Members). Any other field is refused so a test cannot silently rely on
 * behaviour that is not simulated.
 */
export function modifyMember({ params, body, env }: RouteContext): RouteResult {
  const b = objectBody(body);
  const form = new FormErrors();
  const supported = ["channel_id", "mute", "deaf"];
  for (const key of Object.keys(b))
    if (!supported.includes(key)) form.add([key], "UNSUPPORTED_BY_SIMULATOR", "The simulator only supports channel_id, mute and deaf here.");
  const channelId = b.channel_id;
  if (channelId !== undefined && channelId !== null && !isSnowflake(channelId)) {
    form.add(["channel_id"], "NUMBER_TYPE_COERCE", `Value "${String(channelId)}" is not snowflake.`);
  }
  const mute = optional(b.mute, "boolean", ["mute"], form);
  const deaf = optional(b.deaf, "boolean", ["deaf"], form);
  form.throwIfAny();
  const guildId = params.guild_id!;
  const userId = params.user_id!;
  if (typeof mute === "boolean" || typeof deaf === "boolean") {
    env.world.setServerVoiceFlags(guildId, userId, { ...(typeof mute === "boolean" && { mute }), ...(typeof deaf === "boolean" && { deaf }) }, { asBot: true });
  }
  if (channelId !== undefined) env.world.moveMember(guildId, userId, channelId as string | null);
  return ok(env.world.apiMember(guildId, userId));
}

export function removeMemberRole({ params, env }: RouteContext): RouteResult {
  env.world.removeMemberRole(params.guild_id!, params.user_id!, params.role_id!);
  return noContent;
}

/** Validates a Create Guild Channel body with Discord's field error codes. */
function parseChannelInput(b: Record<string, unknown>, isCategory: (id: string) => boolean): ChannelInput {
  const form = new FormErrors();
  if (b.name == null) form.required(["name"]);
  else if (typeof b.name !== "string") form.add(["name"], "BASE_TYPE_STRING", "Must be a string.");
  else if (b.name.length < 1 || b.name.length > 100) form.add(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");

  const type = (b.type ?? ChannelType.GuildText) as SimChannelType;
  if (!(SUPPORTED_CHANNEL_TYPES as readonly unknown[]).includes(type)) {
    form.add(["type"], "BASE_TYPE_CHOICES", `Value must be one of {${SUPPORTED_CHANNEL_TYPES.join(", ")}}.`);
  }

  const userLimit = b.user_limit;
  if (userLimit != null) {
    if (!Number.isInteger(userLimit)) form.add(["user_limit"], "NUMBER_TYPE_COERCE", `Value "${String(userLimit)}" is not int.`);
    else if ((userLimit as number) < 0) form.add(["user_limit"], "NUMBER_TYPE_MIN", "int value should be greater than or equal to 0.");
    else if ((userLimit as number) > 99) form.add(["user_limit"], "NUMBER_TYPE_MAX", "int value should be less than or equal to 99.");
  }

  const bitrate = b.bitrate;
  if (bitrate != null) {
    if (!Number.isInteger(bitrate)) form.add(["bitrate"], "NUMBER_TYPE_COERCE", `Value "${String(bitrate)}" is not int.`);
    else if ((bitrate as number) < 8000) form.add(["bitrate"], "NUMBER_TYPE_MIN", "int value should be greater than or equal to 8000.");
    else if ((bitrate as number) > 96_000) form.add(["bitrate"], "BASE_TYPE_MAX", "int value should be less than or equal to 96000.");
  }

  const parentId = b.parent_id;
  if (parentId != null) {
    if (!isSnowflake(parentId)) form.add(["parent_id"], "NUMBER_TYPE_COERCE", `Value "${String(parentId)}" is not snowflake.`);
    else if (type === ChannelType.GuildCategory || !isCategory(parentId)) form.add(["parent_id"], "CHANNEL_PARENT_INVALID", "Invalid parent channel.");
  }

  const overwrites = parseOverwrites(b.permission_overwrites, form);
  const position = b.position;
  if (position != null && !Number.isInteger(position)) form.add(["position"], "NUMBER_TYPE_COERCE", `Value "${String(position)}" is not int.`);
  form.throwIfAny();

  return {
    name: b.name as string,
    type,
    ...(typeof parentId === "string" && { parentId }),
    ...(typeof userLimit === "number" && type === ChannelType.GuildVoice && { userLimit }),
    ...(typeof bitrate === "number" && type === ChannelType.GuildVoice && { bitrate }),
    ...(typeof position === "number" && { position }),
    permissionOverwrites: overwrites,
  };
}

function parseOverwrites(value: unknown, form: FormErrors): NonNullable<ChannelInput["permissionOverwrites"]> {
  if (value == null) return [];
  if (!Array.isArray(value)) {
    form.add(["permission_overwrites"], "BASE_TYPE_ARRAY", "Must be an array.");
    return [];
  }
  return value.map((raw: unknown, i) => {
    const o = objectBody(raw);
    const path = ["permission_overwrites", i];
    if (o.id == null) form.required([...path, "id"]);
    else if (!isSnowflake(o.id)) form.add([...path, "id"], "NUMBER_TYPE_COERCE", `Value "${String(o.id)}" is not snowflake.`);
    if (o.type == null) form.required([...path, "type"]);
    else if (o.type !== OverwriteType.Role && o.type !== OverwriteType.Member) form.add([...path, "type"], "BASE_TYPE_CHOICES", "Value must be one of {0, 1}.");
    for (const field of ["allow", "deny"] as const) {
      const bits = o[field];
      if (bits != null && !(typeof bits === "string" && /^\d+$/.test(bits)) && !Number.isInteger(bits)) {
        form.add([...path, field], "NUMBER_TYPE_COERCE", `Value "${String(bits)}" is not snowflake.`);
      }
    }
    return {
      id: String(o.id),
      type: o.type as OverwriteType,
      ...(o.allow != null && { allow: String(o.allow) }),
      ...(o.deny != null && { deny: String(o.deny) }),
    };
  });
}

function optional(value: unknown, type: "string" | "number" | "boolean", path: string[], form: FormErrors): unknown {
  if (value == null || typeof value === type) return value;
  const codes = {
    string: ["BASE_TYPE_STRING", "Must be a string."],
    number: ["NUMBER_TYPE_COERCE", `Value "${String(value)}" is not int.`],
    boolean: ["BASE_TYPE_BOOLEAN", "Must be either true or false."],
  } as const;
  form.add(path, codes[type][0], codes[type][1]);
  return undefined;
}
