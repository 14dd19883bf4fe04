import { closingText } from "../format.ts";
import { useNow } from "../hooks/useNow.ts";
import { retryText } from "../messages.ts";

/** "Closing in 0:25: …", counting down by itself. */
export function ClosingCountdown({ closesAt }: { closesAt: number }) {
  const now = useNow();
  return <span data-closes-at={closesAt}>{closingText(closesAt, now)}</span>;
}

/** "You can try again in 4:05." until the time comes, then "You can try again now." */
export function RetryCountdown({ retryAt }: { retryAt: number }) {
  const now = useNow(true);
  return <span data-testid="retry-at">{retryText(retryAt, now)}</span>;
}
