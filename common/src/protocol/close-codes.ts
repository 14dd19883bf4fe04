/**
 * Close codes of `/api/ws`, with what each means for a client. One table for the hub (which
 * closes) and the client library (which decides whether to retry), so the two cannot disagree.
 */

/** Close codes the hub uses. */
export const CloseCodes = {
  /** No auth message within the auth timeout. */
  AuthTimeout: 4001,
  /** The first message was not a valid auth message, or a message broke the protocol. */
  ProtocolError: 4002,
  /** The token was rejected (bad signature, wrong issuer/audience, unknown key, malformed). */
  AuthFailed: 4003,
  /** The token expired; get a fresh token and reconnect (with resume). */
  TokenExpired: 4004,
  /** The client fell more than `maxLag` events behind in its acks; reconnect with resume. */
  SlowConsumer: 4008,
  /** No ping or message for too long; the connection is presumed dead. */
  Idle: 4009,
  /** The guild is not served here (not in PRIMARY_GUILD_ID). */
  UnknownGuild: 4010,
} as const;
export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

/**
 * What a client should do after each code: `fatal` codes cannot be helped by retrying as is (the
 * app must act: sign in, fix the client or its configuration); `message` says so to a person.
 */
export const CloseCodeAdvice: Record<CloseCode, { fatal: boolean; message: string }> = {
  [CloseCodes.AuthTimeout]: { fatal: false, message: "The server did not receive the sign-in in time; reconnecting." },
  [CloseCodes.ProtocolError]: { fatal: true, message: "The server rejected a message from this client (protocol error)." },
  [CloseCodes.AuthFailed]: { fatal: true, message: "The server rejected the sign-in token; sign in again." },
  [CloseCodes.TokenExpired]: { fatal: false, message: "The sign-in token expired; reconnecting with a fresh one." },
  [CloseCodes.SlowConsumer]: { fatal: false, message: "This client fell behind; reconnecting to catch up." },
  [CloseCodes.Idle]: { fatal: false, message: "The connection was idle too long; reconnecting." },
  [CloseCodes.UnknownGuild]: { fatal: true, message: "This guild is not served by the server." },
};

/** Close codes after which a client should not retry without user action (new token, fix, config). */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set(
  Object.entries(CloseCodeAdvice)
    .filter(([, advice]) => advice.fatal)
    .map(([code]) => Number(code)),
);
