/**
 * rtc-node's end of the voice link: a WebSocket to gateway-node (`Authorization: Bearer
 * <LINK_TOKEN>`) that carries op 4 out and the bot's voice dispatches in. It reconnects with
 * backoff when gateway-node restarts or the socket drops, and gives up (`onFatal`) after
 * `maxFailures` consecutive failed attempts, or at once when the token is refused, so a
 * supervisor restarts or an operator fixes it: nothing loops without bound.
 */
import WebSocket from "ws";
import { backoffDelay, LinkMessage, type LinkVoiceStateCommand, type Logger } from "@spell-coven/common";
import type { GatewayVoiceServerUpdateDispatchData, GatewayVoiceStateUpdateDispatchData } from "discord-api-types/v10";
import { RtcError } from "../errors.ts";
import type { GuildVoiceHandlers, VoiceSignalling } from "../voice-signalling.ts";

export interface VoiceLinkClientOptions {
  /** ws://host:port of gateway-node's link (GATEWAY_WS_URL). */
  url: string;
  token: string;
  log: Logger;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Consecutive failed connection attempts before giving up. Default 30. */
  maxFailures?: number;
  onFatal?: (err: RtcError) => void;
}

export type LinkState = "connecting" | "open" | "waiting" | "closed" | "failed";

export class VoiceLinkClient implements VoiceSignalling {
  private ws: WebSocket | null = null;
  private guilds = new Map<string, Set<GuildVoiceHandlers>>();
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private _state: LinkState = "closed";
  private _botUserId: string | null = null;
  /** Times the link came up (1 after the first connection). */
  connects = 0;
  /** Messages from gateway-node that failed validation, and refusals it sent. */
  readonly errors: { code: string; message: string }[] = [];

  constructor(private readonly opts: VoiceLinkClientOptions) {}

  get state(): LinkState {
    return this._state;
  }
  get botUserId(): string | null {
    return this._botUserId;
  }
  get available(): boolean {
    return this._state === "open" && this.ws?.readyState === WebSocket.OPEN;
  }

  /** Connects; resolves once open the first time (or rejects if the token is refused). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onceOpen = (err?: RtcError) => (err ? reject(err) : resolve());
      this.connect(onceOpen);
    });
  }

  /** Closes for good. */
  stop(): void {
    this._state = "closed";
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.ws?.close(1000);
    this.ws = null;
  }

  sendVoiceState(cmd: LinkVoiceStateCommand): boolean {
    if (!this.available) return false;
    this.ws!.send(JSON.stringify(cmd));
    return true;
  }

  onGuild(guildId: string, handlers: GuildVoiceHandlers): () => void {
    let set = this.guilds.get(guildId);
    if (!set) this.guilds.set(guildId, (set = new Set()));
    set.add(handlers);
    return () => {
      set.delete(handlers);
      if (set.size === 0) this.guilds.delete(guildId);
    };
  }

  private connect(first?: (err?: RtcError) => void): void {
    if (this._state === "closed" && this.connects > 0 && !first) return;
    this._state = "connecting";
    const ws = new WebSocket(this.opts.url, { headers: { authorization: `Bearer ${this.opts.token}` }, handshakeTimeout: 5000 });
    this.ws = ws;
    let opened = false;
    ws.on("unexpected-response", (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      if (status === 401 || status === 403) {
        const err = new RtcError(
          "RTC_LINK_REFUSED",
          status === 401
            ? "gateway-node refused LINK_TOKEN (401): set the same LINK_TOKEN on gateway-node and rtc-node"
            : "gateway-node refused this address (403): the link accepts loopback and private networks only",
        );
        this._state = "failed";
        this.opts.log.error(err.message, { status });
        ws.terminate();
        first?.(err);
        first = undefined;
        this.opts.onFatal?.(err);
        return;
      }
      ws.terminate();
    });
    ws.on("open", () => {
      opened = true;
      this.failures = 0;
      this._state = "open";
      this.connects++;
      this.opts.log.info("voice link open", { connects: this.connects });
      first?.();
      first = undefined;
      // After a drop the bot's voice dispatches of the gap are lost: connections still
      // signalling ask again (their op 4 is answered with fresh VOICE_STATE/SERVER_UPDATEs).
      if (this.connects > 1) this.renewAll();
    });
    ws.on("message", (data) => this.onMessage(String(data)));
    ws.on("error", (err) => this.opts.log.debug("voice link socket error", { err: err.message }));
    ws.on("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this._state === "closed" || this._state === "failed") return;
      if (!opened) this.failures++;
      const max = this.opts.maxFailures ?? 30;
      if (this.failures >= max) {
        this._state = "failed";
        const err = new RtcError(
          "RTC_LINK_GAVE_UP",
          `voice link: ${this.failures} connection attempts to ${this.opts.url} failed; is gateway-node running with LINK_TOKEN set?`,
        );
        this.opts.log.error(err.message);
        this.opts.onFatal?.(err);
        return;
      }
      this._state = "waiting";
      const delay = backoffDelay(this.failures, this.opts.retryBaseMs ?? 500, this.opts.retryMaxMs ?? 10_000);
      this.opts.log.warn("voice link closed; reconnecting", { inMs: delay, failures: this.failures });
      this.timer = setTimeout(() => this.connect(first), delay);
    });
  }

  private onMessage(text: string): void {
    let parsed: ReturnType<typeof LinkMessage.safeParse> | null;
    try {
      parsed = LinkMessage.safeParse(JSON.parse(text));
    } catch {
      parsed = null;
    }
    if (!parsed?.success) {
      this.opts.log.warn("voice link: ignored a message that is not the link protocol");
      return;
    }
    const m = parsed.data;
    switch (m.type) {
      case "hello":
        this._botUserId = m.botUserId ?? this._botUserId;
        return;
      case "session":
        this._botUserId = m.botUserId;
        this.renewAll();
        return;
      case "error":
        this.errors.push({ code: m.code, message: m.message });
        this.opts.log.warn("voice link: gateway-node refused a command", { code: m.code, message: m.message });
        return;
      case "dispatch": {
        const guildId = m.d.guild_id as string | undefined;
        const set = guildId ? this.guilds.get(guildId) : undefined;
        if (!set) return;
        for (const h of [...set]) {
          if (m.t === "VOICE_STATE_UPDATE") h.voiceState(m.d as unknown as GatewayVoiceStateUpdateDispatchData);
          else h.voiceServer(m.d as unknown as GatewayVoiceServerUpdateDispatchData);
        }
      }
    }
  }

  private renewAll(): void {
    for (const set of this.guilds.values()) for (const h of [...set]) h.sessionRenewed();
  }
}
