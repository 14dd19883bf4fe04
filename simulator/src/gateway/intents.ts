/**
 * Intents: which bits exist, which are privileged, and which dispatches each one unlocks
 * (Discord docs, Gateway "List of Intents"). Sessions only receive what their intents allow.
 */
import { GatewayDispatchEvents, GatewayIntentBits } from "discord-api-types/v10";

export const ALL_INTENTS = Object.values(GatewayIntentBits)
  .filter((v): v is number => typeof v === "number")
  .reduce((all, bit) => all | bit, 0);

export const PRIVILEGED_INTENTS = GatewayIntentBits.GuildMembers | GatewayIntentBits.GuildPresences | GatewayIntentBits.MessageContent;

/** Default for SimulatorOptions.allowedIntents: every non-privileged intent plus MESSAGE_CONTENT. */
export const DEFAULT_ALLOWED_INTENTS = (ALL_INTENTS & ~PRIVILEGED_INTENTS) | GatewayIntentBits.MessageContent;

const REQUIRED_INTENT: Partial<Record<GatewayDispatchEvents, GatewayIntentBits>> = {
  [GatewayDispatchEvents.ChannelCreate]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.ChannelUpdate]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.ChannelDelete]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.GuildRoleCreate]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.GuildRoleDelete]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.GuildMemberAdd]: GatewayIntentBits.GuildMembers,
  [GatewayDispatchEvents.GuildMemberUpdate]: GatewayIntentBits.GuildMembers,
  [GatewayDispatchEvents.VoiceStateUpdate]: GatewayIntentBits.GuildVoiceStates,
  [GatewayDispatchEvents.MessageCreate]: GatewayIntentBits.GuildMessages,
  [GatewayDispatchEvents.MessageUpdate]: GatewayIntentBits.GuildMessages,
  [GatewayDispatchEvents.MessageDelete]: GatewayIntentBits.GuildMessages,
  [GatewayDispatchEvents.MessageDeleteBulk]: GatewayIntentBits.GuildMessages,
  [GatewayDispatchEvents.MessageReactionAdd]: GatewayIntentBits.GuildMessageReactions,
  [GatewayDispatchEvents.MessageReactionRemove]: GatewayIntentBits.GuildMessageReactions,
  [GatewayDispatchEvents.TypingStart]: GatewayIntentBits.GuildMessageTyping,
};

interface MessageLike {
  content?: string;
  author?: { id: string };
  mentions?: { id: string }[];
}

/**
 * What a session with `intents` sees of a dispatch: null when its intents exclude the event.
 * Without MESSAGE_CONTENT, message content fields are empty unless the bot wrote the message or
 * is mentioned in it (Discord docs, "Message Content Intent").
 */
export function visibleData(event: GatewayDispatchEvents, data: unknown, intents: number, botId: string): unknown {
  const required = REQUIRED_INTENT[event];
  if (required !== undefined && (intents & required) === 0) return null;
  const carriesContent = event === GatewayDispatchEvents.MessageCreate || event === GatewayDispatchEvents.MessageUpdate;
  if (!carriesContent || (intents & GatewayIntentBits.MessageContent) !== 0) return data;
  const message = data as MessageLike;
  const mentionsBot = message.content?.includes(`<@${botId}>`) || message.mentions?.some((m) => m.id === botId);
  if (message.author?.id === botId || mentionsBot) return data;
  return { ...message, content: "", embeds: [], attachments: [], components: [] };
}
