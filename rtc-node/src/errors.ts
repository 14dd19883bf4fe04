/**
 * Typed errors of rtc-node. Every error has a stable `code` a caller can branch on
 * (`err instanceof RtcError && err.code === "RTC_REJOIN_LIMIT"`) and a message a person can act on.
 */

/** Base of every rtc-node error. */
export class RtcError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Discord does not let bots send or receive camera video. Board video travels between the
 * players' browsers (WebRTC, the board-video path); the bot only handles audio.
 */
export class VideoNotSupportedError extends RtcError {
  constructor(method: "sendVideo" | "onVideo") {
    super(
      "RTC_VIDEO_NOT_SUPPORTED",
      `${method}: Discord does not allow bots to send or receive camera video. Board video goes browser to browser over WebRTC (the board-video path, signalled through the GuildHub), not through rtc-node.`,
    );
  }
}

/** The connection could not be made or was given up; `reason` says which. */
export class VoiceConnectError extends RtcError {
  constructor(
    readonly reason: "timeout" | "rejoin_limit" | "dave_required" | "disconnected" | "link_unavailable" | "destroyed",
    message: string,
    readonly closeCode?: number,
  ) {
    super(`RTC_CONNECT_${reason.toUpperCase()}`, message);
  }
}

/** A method needs a connection and there is none. */
export class NotConnectedError extends RtcError {
  constructor(what: string) {
    super("RTC_NOT_CONNECTED", `${what}: not connected to a voice channel; call connect(channelId) first`);
  }
}

/** Audio given to sendAudio is not what it accepts. */
export class AudioFormatError extends RtcError {
  constructor(message: string) {
    super("RTC_AUDIO_FORMAT", message);
  }
}
