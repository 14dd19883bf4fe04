/**
 * The listeners of an external store (React's `useSyncExternalStore`): `subscribe` hands out an
 * unsubscribe, `notify` calls each listener once, and a listener that throws is reported on the
 * console without keeping the others from being told.
 */
export class StoreListeners {
  readonly #listeners = new Set<() => void>();

  /** `what` names the store in the console report ("a table chat subscriber threw"). */
  constructor(readonly what: string) {}

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  notify(): void {
    for (const fn of [...this.#listeners]) {
      try {
        fn();
      } catch (err) {
        console.error(`spell-coven: ${this.what} threw`, err);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
