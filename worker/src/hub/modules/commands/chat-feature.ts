/**
 * The table chat feature, put together: who may read a table's chat (ChatAudience), the commands
 * (ChatCommands, behind the token buckets), the module that applies message events and routes
 * `chat.*` messages, and the history reader. The GuildHub shell builds it with one call and keeps
 * the commands and the history for its RPC methods.
 */
import type { Logger } from "@spell-coven/common";
import type { DiscordRestClient } from "@spell-coven/common/rest";
import type { HubServices } from "../../hub-core.ts";
import type { HubModule } from "../../hub-module.ts";
import type { RoomsService } from "../rooms/rooms-service.ts";
import { ChatAudience } from "./chat-audience.ts";
import { ChatCommands } from "./chat-commands.ts";
import { ChatHistoryReader } from "./chat-history.ts";
import { CommandLimits } from "./command-limits.ts";
import { CommandStore } from "./command-store.ts";
import { chatModule } from "./commands-module.ts";

export interface ChatFeatureDeps {
  hub: HubServices;
  rooms: RoomsService;
  /** Users in a voice channel now (presence). */
  voiceIn(channelId: string): readonly string[];
  guildId(): string;
  discord(): DiscordRestClient;
  botUserId: string | null;
  log: Logger;
}

export interface ChatFeature {
  module: HubModule;
  commands: ChatCommands;
  history: ChatHistoryReader;
}

export function chatFeature({ hub, rooms, voiceIn, guildId, discord, botUserId, log }: ChatFeatureDeps): ChatFeature {
  const store = new CommandStore(hub.sql);
  const audience = new ChatAudience({ rooms, voiceIn });
  const commands = new ChatCommands({
    store,
    limits: new CommandLimits(),
    rooms,
    audience,
    fanout: hub.fanout,
    publish: hub.publish,
    botUserId,
    guildId,
    discord,
    log: log.child({ component: "commands" }),
    count: (command, outcome, code) => hub.metrics.count("hub_commands_total", { command, outcome, ...(code ? { code } : {}) }),
  });
  const history = new ChatHistoryReader({
    rooms,
    audience,
    guildId,
    discord,
    botUserId,
    log: log.child({ component: "chat-history" }),
    count: (outcome, code) => hub.metrics.count("hub_chat_history_total", { outcome, ...(code ? { code } : {}) }),
  });
  const module = chatModule({ commands, store, audience, fanout: hub.fanout, botUserId, log: log.child({ component: "chat" }) });
  return { module, commands, history };
}
