/** What a REST route handler receives and returns. */
import type { World } from "../world.ts";

export interface RestEnvironment {
  world: World;
  gatewayUrl(): string;
  recommendedShards: number;
  maxConcurrency: number;
  sessionStartLimit: number;
  sessionStartRemaining(): number;
}

export interface RouteContext {
  params: Record<string, string>;
  /** The query string (Get Channel Messages reads its paging from it). */
  query: URLSearchParams;
  body: unknown;
  env: RestEnvironment;
}

export interface RouteResult {
  status: number;
  body?: unknown;
}

export type RouteHandler = (ctx: RouteContext) => RouteResult;

export const noContent: RouteResult = { status: 204 };

export function ok(body: unknown, status = 200): RouteResult {
  return { status, body };
}

/** The JSON object body of a request ({} when absent), or a 50035 when it is not an object. */
export function objectBody(body: unknown): Record<string, unknown> {
  return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
