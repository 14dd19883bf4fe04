import { useEffect, useState } from "react";

/**
 * The time, renewed every `everyMs` while `active`: for countdowns. Only the component that shows
 * a countdown re-renders each second, not the page.
 */
export function useNow(active = true, everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [active, everyMs]);
  return now;
}
