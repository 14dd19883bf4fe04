/**
 * A tiny router for Discord-style paths. Templates name their parameters (`:channel_id`); the
 * first channel_id/guild_id is the route's major parameter, which splits its rate-limit bucket.
 */
export interface RouteMatch<H> {
  handler: H;
  /** e.g. "POST /channels/:channel_id/messages": the bucket's route key. */
  key: string;
  params: Record<string, string>;
  majorParameter: string;
}

interface Route<H> {
  method: string;
  template: string;
  segments: string[];
  handler: H;
}

export type Lookup<H> = { found: RouteMatch<H> } | { found: null; pathExists: boolean };

export class Router<H> {
  private readonly routes: Route<H>[] = [];

  add(method: string, template: string, handler: H): this {
    this.routes.push({ method, template, segments: template.split("/").filter(Boolean), handler });
    return this;
  }

  /** Finds the route; `pathExists` tells 405 (known path, other method) from 404. */
  match(method: string, path: string): Lookup<H> {
    const parts = path.split("/").filter(Boolean);
    let pathExists = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      pathExists = true;
      if (route.method !== method) continue;
      const majorParameter = params.channel_id ?? params.guild_id ?? "global";
      return { found: { handler: route.handler, key: `${route.method} ${route.template}`, params, majorParameter } };
    }
    return { found: null, pathExists };
  }
}

function matchSegments(template: string[], parts: string[]): Record<string, string> | null {
  if (template.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    const p = parts[i]!;
    if (t.startsWith(":")) {
      try {
        params[t.slice(1)] = decodeURIComponent(p);
      } catch {
        return null;
      }
    } else if (t !== p) {
      return null;
    }
  }
  return params;
}
