/** `GET /api/openapi.json` and `GET /api/docs`: the Worker's HTTP API, described from its zod schemas. */
import { Hono } from "hono";
import type { AppEnv } from "../middleware/context.ts";
import { docsPage } from "../openapi/docs-page.ts";
import { openApiDocument } from "../openapi/document.ts";

export const openapi = new Hono<AppEnv>().get("/api/openapi.json", (c) => c.json(openApiDocument())).get("/api/docs", (c) => c.html(docsPage()));
