/**
 * wrangler.toml and the Worker's `Env` (worker/src/env.ts) cannot drift apart: every binding and
 * variable wrangler.toml gives the Worker is declared in `Env`, every setting `Env` declares is
 * parsed and checked by `ConfigSchema`, and the production `[vars]` hold no local run's values
 * (loopback URLs, the simulator's guild). Read with wrangler's own config reader, the way
 * `wrangler types` does, and the TypeScript compiler's view of `Env`.
 */
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { ConfigSchema } from "../../worker/src/env.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const config = unstable_readConfig({ config: `${ROOT}wrangler.toml` }, { hideWarnings: true });

/** The property names of `interface Env` in worker/src/env.ts. */
function envMembers(): string[] {
  const file = `${ROOT}worker/src/env.ts`;
  const source = ts.createSourceFile(file, ts.sys.readFile(file)!, ts.ScriptTarget.ES2022, true);
  const names: string[] = [];
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === "Env") {
      for (const m of node.members) if (m.name && ts.isIdentifier(m.name)) names.push(m.name.text);
    }
  });
  return names;
}

describe("wrangler.toml and Env", () => {
  const members = envMembers();
  const bindings = config.durable_objects.bindings.map((b: { name: string }) => b.name);
  const vars = Object.keys(config.vars);

  it("declares every binding and variable wrangler.toml gives the Worker", () => {
    expect(members.length).toBeGreaterThan(10);
    expect(bindings.filter((b: string) => !members.includes(b))).toEqual([]);
    expect(vars.filter((v) => !members.includes(v))).toEqual([]);
  });

  it("parses every setting Env declares (bindings aside), so a bad value is a clear configuration error", () => {
    const settings = members.filter((m) => !bindings.includes(m));
    const parsed = Object.keys(ConfigSchema.shape);
    expect(settings.filter((s) => !parsed.includes(s))).toEqual([]);
    expect(parsed.filter((p) => !settings.includes(p))).toEqual([]);
  });

  it("ships no local run's values as production [vars]", () => {
    const local = Object.entries(config.vars).filter(([, v]) => /127\.0\.0\.1|localhost|1060000000000000001/.test(String(v)));
    expect(local).toEqual([]);
    expect(config.keep_vars).toBe(true); // the deployment's own settings live in the dashboard
  });
});
