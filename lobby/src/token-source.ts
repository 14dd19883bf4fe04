/**
 * The client's token source for one sign-in: the stored token, and a fresh one from the local
 * identity provider when the server says it expired (or it is about to). A pasted token cannot be
 * renewed: the page then signs out with a message.
 */
import type { TokenProvider } from "@spell-coven/client";
import { mintSimToken, peekJwt, saveSession, type Session } from "./session.ts";

export class TokenSource {
  #session: Session;
  readonly #simUrl: string | null;
  readonly #onExpired: (message: string) => void;

  constructor(session: Session, simUrl: string | null, onExpired: (message: string) => void) {
    this.#session = session;
    this.#simUrl = simUrl;
    this.#onExpired = onExpired;
  }

  readonly getToken: TokenProvider = async ({ refresh }) => {
    const exp = peekJwt(this.#session.token).exp;
    const stale = exp !== null && exp * 1000 < Date.now() + 30_000;
    if (!refresh && !stale) return this.#session.token;
    if (!this.#session.simUserId || !this.#simUrl) {
      queueMicrotask(() => this.#onExpired("Your sign-in expired. Please sign in again."));
      throw new Error("The token expired and this page cannot renew it.");
    }
    this.#session = { ...this.#session, token: await mintSimToken(this.#simUrl, this.#session.simUserId) };
    saveSession(this.#session);
    return this.#session.token;
  };
}
