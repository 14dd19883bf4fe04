/**
 * Routes: the lobby is `/`, a table is a page of its own at `/table/<channelId>` (the Worker's
 * static assets answer unknown paths with index.html: wrangler.toml `not_found_handling`).
 * History API, no library: two routes do not need one.
 */
import { useSyncExternalStore } from "react";

export type Route = { page: "lobby" } | { page: "table"; channelId: string } | { page: "not-found"; path: string };

export function parseRoute(pathname: string): Route {
  if (pathname === "/" || pathname === "" || pathname === "/index.html") return { page: "lobby" };
  const table = /^\/table\/(\d{1,20})\/?$/.exec(pathname);
  if (table) return { page: "table", channelId: table[1]! };
  return { page: "not-found", path: pathname };
}

export function tablePath(channelId: string): string {
  return `/table/${channelId}`;
}

const CHANGE = "spell-coven:navigate";

/** Goes to `path` inside the page (no reload), keeping the browser's back button working. */
export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  window.dispatchEvent(new Event(CHANGE));
  window.scrollTo({ top: 0 });
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

const currentPath = () => location.pathname;

/** The current route; re-renders on navigate() and the browser's back/forward. */
export function useRoute(): Route {
  const path = useSyncExternalStore(subscribe, currentPath, currentPath);
  return parseRoute(path);
}
