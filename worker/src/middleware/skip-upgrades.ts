/**
 * Runs a header-changing middleware for every request except WebSocket upgrades. A 101 response
 * handed back by a Durable Object has immutable headers, and browsers apply no CORS to
 * WebSockets, so upgrades pass straight through (the ws route checks Origin itself).
 */
import type { MiddlewareHandler } from "hono";

export const isUpgrade = (req: Request) => req.headers.get("Upgrade")?.toLowerCase() === "websocket";

export function skipUpgrades<M extends MiddlewareHandler<any>>(middleware: M): M {
  return (async (c, next) => (isUpgrade(c.req.raw) ? next() : middleware(c, next))) as M;
}
