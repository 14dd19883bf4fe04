/**
 * Route data for rate limiting, the way Discord scopes its limits (and the way @discordjs/rest
 * keys its handlers): the major parameter is the first channel, guild or webhook (id + token) in
 * the path; the route template replaces every id with ":id" so one template names one route.
 */
export interface RouteKey {
  method: string;
  /** Template, e.g. "/channels/:id/messages". Never contains a token or emoji. */
  route: string;
  /** channel/guild id, "webhookId/token-hash", or "global" when the route has none. */
  majorParameter: string;
}

const MAJOR = /^\/(?:channels|guilds|webhooks)\/(\d{1,20})(?:\/([^/?]+))?/;

export function routeKey(method: string, path: string): RouteKey {
  const m = MAJOR.exec(path);
  let majorParameter = "global";
  if (m) {
    majorParameter = m[1]!;
    // Webhook routes are limited per webhook id + token: keep the pair, but never the token itself.
    if (path.startsWith("/webhooks/") && m[2] && !/^\d+$/.test(m[2])) majorParameter = `${m[1]}/${tokenHash(m[2])}`;
  }
  let route = path
    .replace(/\?.*$/, "")
    .replace(/\/reactions\/[^/]+/g, "/reactions/:reaction") // one bucket for every emoji
    .replace(/\/\d{1,20}(?=\/|$)/g, "/:id");
  if (path.startsWith("/webhooks/")) route = route.replace(/^\/webhooks\/:id\/[^/]+/, "/webhooks/:id/:token");
  if (route.startsWith("/interactions/")) route = route.replace(/^\/interactions\/:id\/[^/]+/, "/interactions/:id/:token");
  return { method: method.toUpperCase(), route, majorParameter };
}

/** A short, non-reversible stand-in for a webhook token in keys (FNV-1a). */
function tokenHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}

export const keyString = (k: RouteKey): string => `${k.method}:${k.route}:${k.majorParameter}`;
