import { describe, expect, it } from "vitest";
import { app } from "../src/app.ts";
import { OPERATIONS } from "../src/openapi/operations.ts";
import { request } from "./helpers.ts";

describe("the OpenAPI document", () => {
  it("lists every route the Worker serves, and nothing it does not", () => {
    const served = new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`));
    const documented = new Set(OPERATIONS.map((o) => `${o.method} ${o.path}`));
    expect(
      [...served].filter((r) => !documented.has(r)),
      "served but not documented",
    ).toEqual([]);
    expect(
      [...documented].filter((r) => !served.has(r)),
      "documented but not served",
    ).toEqual([]);
  });

  it("is served at /api/openapi.json with the same schemas the routes validate with", async () => {
    const res = await request("/api/openapi.json");
    expect(res.status).toBe(200);
    const doc = await res.json<any>();
    expect(doc.openapi).toBe("3.1.0");
    const create = doc.paths["/api/create-room"].post;
    expect(create.security).toEqual([{ bearer: [] }]);
    expect(create.requestBody.content["application/json"].schema.properties.userLimit).toMatchObject({ type: "integer", minimum: 1, maximum: 99 });
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(["201", "400", "401", "429"]));
    expect(doc.paths["/api/rooms/{channelId}/join"].post.parameters[0]).toMatchObject({ name: "channelId", in: "path", required: true });
    expect(doc.paths["/api/internal/events"].post.security).toEqual([{ hubSignature: [], hubTimestamp: [] }]);
    // The chat's history: the shared query and answer schemas, and its own status for Discord down.
    const history = doc.paths["/api/tables/{channelId}/messages"].get;
    expect(history.parameters.map((p: any) => [p.name, p.in, p.required])).toEqual([
      ["channelId", "path", true],
      ["before", "query", false],
      ["limit", "query", false],
    ]);
    expect(history.responses["200"].content["application/json"].schema.properties).toHaveProperty("hasMore");
    expect(history.responses["502"].description).toContain("DISCORD_UNAVAILABLE");
    expect(history.responses["429"].description).toContain("DISCORD_RATE_LIMITED");
  });

  it("has a readable page at /api/docs, with nothing loaded from elsewhere", async () => {
    const res = await request("/api/docs");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("/api/rooms/{channelId}/leave");
    expect(html).not.toMatch(/<script|https?:\/\/(?!json-schema)/);
  });
});
