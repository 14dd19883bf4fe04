/**
 * The demo world `npm start` and tests start from. Ids are fixed so scripts, docs and tests can
 * name them; they are plausible 19-digit snowflakes (their timestamps decode to early 2023).
 */
import { ChannelType } from "discord-api-types/v10";
import type { World } from "./world.ts";

export const BOT_USER_ID = "1060000000000000000";
/**
 * Shaped like a real bot token (the bot's id in unpadded base64, a timestamp part, an HMAC part),
 * so code that reads the bot's id from its token, as the Worker does, finds it here too.
 */
export const DEFAULT_BOT_TOKEN = `${btoa(BOT_USER_ID).replace(/=+$/, "")}.c2lt.simulated-bot-token`;
export const BOT_USERNAME = "Spell Coven Bot";

export const DEMO_GUILD_ID = "1060000000000000001";
export const DEMO_GUILD_NAME = "Spell Coven";

export const DEMO_USERS = {
  alice: "1060000000000000101",
  bob: "1060000000000000102",
  carol: "1060000000000000103",
  dave: "1060000000000000104",
} as const;

export const DEMO_CHANNELS = {
  gameRooms: "1060000000000000201",
  lobby: "1060000000000000202",
  table1: "1060000000000000203",
  table2: "1060000000000000204",
  general: "1060000000000000205",
} as const;

export function seedWorld(world: World): void {
  for (const [username, id] of Object.entries(DEMO_USERS)) world.addUser({ id, username });
  world.addGuild({ id: DEMO_GUILD_ID, name: DEMO_GUILD_NAME });
  world.createChannel(DEMO_GUILD_ID, { id: DEMO_CHANNELS.gameRooms, name: "Game Rooms", type: ChannelType.GuildCategory });
  world.createChannel(DEMO_GUILD_ID, { id: DEMO_CHANNELS.lobby, name: "Lobby", type: ChannelType.GuildVoice, parentId: DEMO_CHANNELS.gameRooms });
  world.createChannel(DEMO_GUILD_ID, {
    id: DEMO_CHANNELS.table1,
    name: "Table 1",
    type: ChannelType.GuildVoice,
    parentId: DEMO_CHANNELS.gameRooms,
    userLimit: 4,
  });
  world.createChannel(DEMO_GUILD_ID, {
    id: DEMO_CHANNELS.table2,
    name: "Table 2",
    type: ChannelType.GuildVoice,
    parentId: DEMO_CHANNELS.gameRooms,
    userLimit: 4,
  });
  world.createChannel(DEMO_GUILD_ID, { id: DEMO_CHANNELS.general, name: "general", type: ChannelType.GuildText });
}
