/**
 * Typing in a table's chat, both ways: who is typing now (each shown for Discord's 10 s, renewed
 * by a new event, ended by their message; one timer for the next to expire) and when the player's
 * own typing may be announced again (at most once per 8 s, later when the hub says to wait).
 */
export class ChatTyping {
  readonly #showMs: number;
  readonly #throttleMs: number;
  readonly #onChange: () => void;
  /** Who types, until when; in order of who started last. */
  readonly #until = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #nextAnnounceAt = 0;
  #list: readonly string[] = Object.freeze([]);

  constructor(opts: { showMs: number; throttleMs: number; onChange: () => void }) {
    this.#showMs = opts.showMs;
    this.#throttleMs = opts.throttleMs;
    this.#onChange = opts.onChange;
  }

  /** Who is typing now, oldest first (the same array until it changes). */
  get list(): readonly string[] {
    return this.#list;
  }

  /** `userId` started (or goes on) typing. */
  started(userId: string): void {
    this.#until.delete(userId);
    this.#until.set(userId, Date.now() + this.#showMs);
    this.#changed();
  }

  /** `userId`'s message arrived: Discord ends their indicator. */
  stopped(userId: string): void {
    if (this.#until.delete(userId)) this.#changed();
  }

  /** True when the player's typing may go out now (and then not again for the throttle time). */
  claimAnnounce(): boolean {
    const now = Date.now();
    if (now < this.#nextAnnounceAt) return false;
    this.#nextAnnounceAt = now + this.#throttleMs;
    return true;
  }

  /** The hub asked to wait until `at` (Unix ms) before announcing again. */
  holdUntil(at: number): void {
    this.#nextAnnounceAt = Math.max(this.#nextAnnounceAt, at);
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#until.clear();
  }

  #changed(): void {
    this.#list = Object.freeze([...this.#until.keys()]);
    this.#schedule();
    this.#onChange();
  }

  /** One timer, for the next indicator to go out. */
  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#until.size === 0) return;
    const next = Math.min(...this.#until.values());
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        const now = Date.now();
        let expired = false;
        for (const [id, until] of this.#until) if (until <= now && this.#until.delete(id)) expired = true;
        if (expired) this.#changed();
        else this.#schedule();
      },
      Math.max(0, next - Date.now()),
    );
  }
}
