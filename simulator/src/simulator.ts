/**
 * The in-process API (the `Simulator` interface): thin delegation to the world, the gateway,
 * the REST layer and the identity provider. The HTTP control API mirrors these methods.
 */
import type { Server } from "node:http";
import type { APIChannel, APIMessage, APIVoiceState } from "discord-api-types/v10";
import type { Gateway, GatewayStats } from "./gateway/gateway.ts";
import type { IdentityProvider, MintOptions } from "./identity.ts";
import type { RestApi } from "./rest/server.ts";
import type { GatewayFaults, RateLimitConfig, RecordedRequest, SimGuild, Simulator, SimUser } from "./types.ts";
import type { SimulatedPeople } from "./voice/people/simulatedPeople.ts";
import type { PersonStatus, SimulatedPerson } from "./voice/people/simulatedPerson.ts";
import type { RelayFaults } from "./voice/udpRelay.ts";
import type { VoiceServer, VoiceServerStats } from "./voice/voiceServer.ts";
import type { VoiceStateRequests } from "./voice/voiceStateRequests.ts";
import type { SimChannelType, World } from "./world.ts";

export interface SimulatorParts {
  server: Server;
  world: World;
  gateway: Gateway;
  rest: RestApi;
  identity: IdentityProvider;
  /** Null when started with `voice: false`. */
  voice: VoiceServer | null;
  people: SimulatedPeople | null;
  voiceStateRequests: VoiceStateRequests;
  url: string;
  gatewayUrl: string;
  botToken: string;
}

/** Everything the control page shows. */
export interface SimulatorState {
  url: string;
  apiBase: string;
  gatewayUrl: string;
  down: boolean;
  rateLimits: RateLimitConfig;
  users: SimUser[];
  guilds: (SimGuild & { channels: APIChannel[]; voiceStates: APIVoiceState[] })[];
  gateway: GatewayStats & { connectionList: ReturnType<Gateway["describeConnections"]> };
  voice:
    | (VoiceServerStats & {
        endpoint: string;
        caFile: string;
        op4Received: number;
        people: PersonStatus[];
        faults: RelayFaults & { transitionDelayMs: number };
      })
    | null;
}

export class LocalDiscord implements Simulator {
  readonly url: string;
  readonly apiBase: string;
  /** `${url}/api`: the unversioned root that @discordjs/rest's `api` option expects (it appends /v10). */
  readonly apiRoot: string;
  readonly gatewayUrl: string;
  readonly jwksUrl: string;
  readonly botToken: string;
  private readonly parts: SimulatorParts;

  constructor(parts: SimulatorParts) {
    this.parts = parts;
    this.url = parts.url;
    this.apiRoot = `${parts.url}/api`;
    this.apiBase = `${this.apiRoot}/v10`;
    this.gatewayUrl = parts.gatewayUrl;
    this.jwksUrl = `${parts.url}/.well-known/jwks.json`;
    this.botToken = parts.botToken;
  }

  get jwtIssuer(): string {
    return this.parts.identity.issuer;
  }

  get jwtAudience(): string {
    return this.parts.identity.audience;
  }

  /** The bot's user id (also its application id). */
  get botUserId(): string {
    return this.parts.world.bot.id;
  }

  /**
   * The voice server (null with `voice: false`). Its CA is trusted in this process already;
   * another process (rtc-node) needs `NODE_EXTRA_CA_CERTS=<voice.certificate.caFile>` at start.
   */
  get voice(): VoiceServer | null {
    return this.parts.voice;
  }

  /** The voice server or a clear error when it is off. */
  requireVoice(): VoiceServer {
    if (!this.parts.voice) throw new RangeError("The voice server is off (started with voice: false)");
    return this.parts.voice;
  }

  async close(): Promise<void> {
    this.parts.people?.closeAll();
    await this.parts.voice?.close();
    this.parts.gateway.close();
    await new Promise<void>((resolve) => {
      this.parts.server.close(() => resolve());
      this.parts.server.closeAllConnections();
    });
  }

  // ---- the world ----

  addGuild(guild: { id?: string; name: string }): SimGuild {
    return this.parts.world.addGuild(guild);
  }

  addUser(user: { id?: string; username: string }): SimUser {
    return this.parts.world.addUser(user);
  }

  addChannel(guildId: string, channel: { id?: string; name: string; type: number; parentId?: string; userLimit?: number }): APIChannel {
    return this.parts.world.createChannel(guildId, { ...channel, type: channel.type as SimChannelType });
  }

  deleteChannel(channelId: string): void {
    this.parts.world.deleteChannel(channelId);
  }

  guilds(): SimGuild[] {
    return this.parts.world.guilds();
  }

  users(): SimUser[] {
    return this.parts.world.users();
  }

  channels(guildId: string): APIChannel[] {
    return this.parts.world.channels(guildId);
  }

  voiceStates(guildId: string): APIVoiceState[] {
    return this.parts.world.voiceStates(guildId);
  }

  joinVoice(guildId: string, userId: string, channelId: string): void {
    this.parts.world.joinVoice(guildId, userId, channelId);
  }

  leaveVoice(guildId: string, userId: string): void {
    this.parts.world.leaveVoice(guildId, userId);
  }

  denyBotPermissions(guildId: string, permissions: bigint): void {
    this.parts.world.denyBotPermissions(guildId, permissions);
  }

  setVoiceFlags(guildId: string, userId: string, flags: { selfMute?: boolean; selfDeaf?: boolean }): void {
    this.parts.world.setVoiceFlags(guildId, userId, flags);
  }

  setServerVoiceFlags(guildId: string, userId: string, flags: { mute?: boolean; deaf?: boolean }): void {
    this.parts.world.setServerVoiceFlags(guildId, userId, flags);
  }

  postMessage(channelId: string, userId: string, content: string, opts: { nonce?: string } = {}): APIMessage {
    return this.parts.world.postMessage(channelId, userId, content, opts);
  }

  editMessage(channelId: string, messageId: string, content: string): APIMessage {
    return this.parts.world.editMessage(channelId, messageId, content);
  }

  deleteMessage(channelId: string, messageId: string): void {
    this.parts.world.deleteMessage(channelId, messageId);
  }

  bulkDeleteMessages(channelId: string, messageIds: string[]): void {
    this.parts.world.bulkDeleteMessages(channelId, messageIds);
  }

  addReaction(channelId: string, messageId: string, userId: string, emoji: string): void {
    this.parts.world.addReaction(channelId, messageId, emoji, userId);
  }

  removeReaction(channelId: string, messageId: string, userId: string, emoji: string): void {
    this.parts.world.removeReaction(channelId, messageId, emoji, userId);
  }

  startTyping(channelId: string, userId: string): void {
    this.parts.world.startTyping(channelId, userId);
  }

  messages(channelId: string): APIMessage[] {
    return this.parts.world.channelMessages(channelId);
  }

  // ---- gateway faults ----

  dropConnections(shardId?: number): void {
    this.parts.gateway.dropConnections(shardId);
  }

  setZombie(on: boolean, shardId?: number): void {
    this.parts.gateway.setZombie(on, shardId);
  }

  requestHeartbeat(shardId?: number): void {
    this.parts.gateway.requestHeartbeat(shardId);
  }

  sendReconnect(shardId?: number): void {
    this.parts.gateway.sendReconnect(shardId);
  }

  sendInvalidSession(resumable: boolean, shardId?: number): void {
    this.parts.gateway.sendInvalidSession(resumable, shardId);
  }

  closeWith(code: number, reason?: string, shardId?: number): void {
    this.parts.gateway.closeWith(code, reason, shardId);
  }

  setGatewayFaults(faults: Partial<GatewayFaults>): GatewayFaults {
    this.parts.gateway.setFaults(faults);
    return this.parts.gateway.currentFaults;
  }

  restartGateway(): void {
    this.parts.gateway.restart();
  }

  goDown(): void {
    this.parts.gateway.goDown();
    this.parts.rest.down = true;
  }

  comeBack(): void {
    this.parts.gateway.comeBack();
    this.parts.rest.down = false;
  }

  gatewayStats(): GatewayStats {
    return this.parts.gateway.stats();
  }

  // ---- voice: simulated people (real @discordjs/voice connections in this process) ----

  /** A simulated user joins (or moves to) a voice channel; resolves when its voice connection is Ready. */
  async personJoin(guildId: string, userId: string, channelId: string, opts: { selfDeaf?: boolean } = {}): Promise<PersonStatus> {
    return (await this.requirePeople().join(guildId, userId, channelId, opts)).status();
  }

  /** The simulated person itself (its @discordjs/voice connection), for tests. */
  person(userId: string): SimulatedPerson {
    return this.requirePeople().get(userId);
  }

  /** The person speaks a sine tone (until personSilence, or for durationMs). */
  personSpeak(userId: string, frequencyHz: number, durationMs?: number): void {
    this.requirePeople().get(userId).speak(frequencyHz, durationMs);
  }

  /** The person plays a short 16-bit PCM WAV clip once. */
  personSpeakWav(userId: string, wav: Buffer): void {
    this.requirePeople().get(userId).speakWav(wav);
  }

  personSilence(userId: string): void {
    this.requirePeople().get(userId).silence();
  }

  /** What the person hears, per speaker (dominant frequency, level, packets, failures). */
  personStatus(userId: string): PersonStatus {
    return this.requirePeople().get(userId).status();
  }

  /** Forgets what the person heard so far. */
  personResetHeard(userId: string): void {
    this.requirePeople().get(userId).resetHeard();
  }

  personLeave(userId: string): void {
    this.requirePeople().leave(userId);
  }

  people(): PersonStatus[] {
    return this.parts.people?.list() ?? [];
  }

  /**
   * Gateway op 4s received from the bot so far. @discordjs/voice 0.19.2 rejoins without bound
   * after most voice close codes (4017: dozens per second): tests of a cap watch this.
   */
  voiceStateRequestCount(): number {
    return this.parts.voiceStateRequests.count;
  }

  // ---- voice faults ----

  /** Destroys voice WebSockets without a close frame (clients resume). */
  dropVoice(userId?: string): number {
    return this.requireVoice().dropSockets(userId);
  }

  /** Closes voice WebSockets with a chosen code (4014: disconnected; 4006/4009: the client rejoins; 4015: it resumes). */
  closeVoiceWith(code: number, userId?: string): number {
    if (!(code >= 4000 && code <= 4999) && ![1000, 1001, 1011, 1012].includes(code)) throw new RangeError(`Close code ${code} is not one a voice server sends`);
    return this.requireVoice().closeSockets(code, userId);
  }

  /** Packet loss (0..1) and jitter (ms) on relayed audio. */
  setVoicePacketFaults(faults: Partial<RelayFaults>): void {
    const current = this.requireVoice().faults;
    if (faults.lossRate !== undefined) current.lossRate = faults.lossRate;
    if (faults.jitterMs !== undefined) current.jitterMs = faults.jitterMs;
  }

  /** Delays every DAVE execute-transition (op 22) by `ms`. */
  delayDaveTransitions(ms: number): void {
    this.requireVoice().transitionDelayMs = ms;
  }

  /** Corrupts the next `count` DAVE Welcomes: the joiner reports an invalid welcome (op 31) and is re-added. */
  corruptDaveWelcomes(count: number): void {
    this.requireVoice().corruptWelcomes = count;
  }

  /** DAVE commits announced with transition id 0 (reproduces the @discordjs/voice 0.19.2 recovery bug). */
  setDaveZeroTransitionIds(on: boolean): void {
    this.requireVoice().zeroTransitionIds = on;
  }

  /** Sends `count` plain (non-DAVE) Opus frames to the others in the user's channel as if from that user; resolves when sent. */
  injectUnencryptedFrames(userId: string, count: number): Promise<number> {
    return this.requireVoice().injectUnencryptedFrames(userId, count);
  }

  /** Moves the voice endpoint (new port, new VOICE_SERVER_UPDATE for everyone connected). */
  moveVoiceEndpoint(): Promise<string> {
    return this.requireVoice().moveEndpoint();
  }

  private requirePeople(): SimulatedPeople {
    if (!this.parts.people) throw new RangeError("The voice server is off (started with voice: false)");
    return this.parts.people;
  }

  // ---- REST ----

  setRateLimits(limits: Partial<RateLimitConfig>): void {
    this.parts.rest.setRateLimits(limits);
  }

  rateLimits(): RateLimitConfig {
    return this.parts.rest.rateLimits;
  }

  failNext(count: number, status: number, match?: RegExp, retryAfterSeconds?: number): void {
    this.parts.rest.failNext(count, status, match, retryAfterSeconds);
  }

  failAfterApplying(count: number, status: number, match?: RegExp): void {
    this.parts.rest.failAfterApplying(count, status, match);
  }

  requests(): RecordedRequest[] {
    return this.parts.rest.requests();
  }

  clearRequests(): void {
    this.parts.rest.clearRequests();
  }

  // ---- identity ----

  async mintToken(userId: string, opts?: MintOptions): Promise<string> {
    const user = this.parts.world.user(userId);
    return this.parts.identity.mint(user.id, user.username, opts);
  }

  /** A snapshot of everything, for the control page and GET /control/state. */
  state(): SimulatorState {
    const world = this.parts.world;
    return {
      url: this.url,
      apiBase: this.apiBase,
      gatewayUrl: this.gatewayUrl,
      down: this.parts.gateway.isDown,
      rateLimits: this.rateLimits(),
      users: world.users(),
      guilds: world.guilds().map((g) => ({ ...g, channels: world.channels(g.id), voiceStates: world.voiceStates(g.id) })),
      gateway: { ...this.gatewayStats(), connectionList: this.parts.gateway.describeConnections() },
      voice: this.parts.voice
        ? {
            ...this.parts.voice.stats(),
            endpoint: this.parts.voice.endpoint,
            caFile: this.parts.voice.certificate.caFile,
            op4Received: this.voiceStateRequestCount(),
            people: this.people(),
            faults: { ...this.parts.voice.faults, transitionDelayMs: this.parts.voice.transitionDelayMs },
          }
        : null,
    };
  }
}
