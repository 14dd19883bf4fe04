/**
 * Gateway op 4 (Update Voice State) from the bot, answered as Discord answers it: the bot's
 * VOICE_STATE_UPDATE (with `member`; broadcast like anyone's), then, to the requesting session
 * only, VOICE_SERVER_UPDATE `{token, guild_id, endpoint}` from the voice server. The order
 * matters: @discordjs/voice starts networking on the server packet only if the state packet is
 * already there. A repeated op 4 for the same channel (the library's rejoin) gets both again. A
 * leave (channel_id null) dispatches the leave; the voice server then closes the voice socket
 * with 4014. One voice channel per guild per user: a join elsewhere is a move.
 */
import { GatewayDispatchEvents } from "discord-api-types/v10";
import { ChannelType } from "discord-api-types/v10";
import { z } from "zod";
import type { Session } from "../gateway/sessions.ts";
import type { World } from "../world.ts";
import type { VoiceServer, VoiceServerUpdate } from "./voiceServer.ts";

const snowflake = z.string().regex(/^\d{1,20}$/);
/** Discord's op 4 payload; self_mute and self_deaf are required there too. */
const updateVoiceState = z.object({
  guild_id: snowflake,
  channel_id: snowflake.nullable(),
  self_mute: z.boolean(),
  self_deaf: z.boolean(),
});

export class VoiceStateRequests {
  /** The gateway session that last asked to be in voice, per guild (for re-issued grants). */
  private readonly botSessions = new Map<string, Session>();
  /** Op 4s received, for tests that watch @discordjs/voice's rejoin loop. */
  count = 0;

  constructor(
    private readonly world: World,
    private readonly voice: VoiceServer | null,
  ) {
    voice?.serverUpdateListeners.add((userId, update) => {
      if (userId === world.bot.id) this.botSessions.get(update.guild_id)?.dispatch(GatewayDispatchEvents.VoiceServerUpdate, update);
    });
  }

  /** Handles op 4's `d`; false when the payload is malformed (the gateway closes with 4002). */
  handle(session: Session, d: unknown): boolean {
    this.count++;
    const parsed = updateVoiceState.safeParse(d);
    if (!parsed.success) return false;
    const { guild_id: guildId, channel_id: channelId, self_mute: selfMute, self_deaf: selfDeaf } = parsed.data;
    if (!this.world.hasGuild(guildId)) return true; // Discord ignores unknown guilds
    const botId = this.world.bot.id;
    if (channelId === null) {
      this.botSessions.delete(guildId);
      this.world.leaveVoice(guildId, botId);
      return true;
    }
    const channel = this.world.channels(guildId).find((c) => c.id === channelId);
    if (channel?.type !== ChannelType.GuildVoice) return true; // not a voice channel of this guild: ignored, as on Discord
    const join = () => this.world.joinVoice(guildId, botId, channelId, { sessionId: session.id, selfMute, selfDeaf });
    const dispatched = this.voice ? this.voice.answeringOp4(guildId, botId, join) : join();
    const state = this.world.voiceState(guildId, botId);
    // Nothing changed (a rejoin): the state still goes to this session so the client can proceed.
    if (!dispatched && state) session.dispatch(GatewayDispatchEvents.VoiceStateUpdate, state);
    if (!this.voice) return true;
    this.botSessions.set(guildId, session);
    const update: VoiceServerUpdate = this.voice.authorize({ guildId, channelId, userId: botId, sessionId: session.id });
    session.dispatch(GatewayDispatchEvents.VoiceServerUpdate, update);
    return true;
  }
}
