/** The OpenAPI 3.1 document of the Worker, built from operations.ts (and so from the zod schemas). */
import { z } from "zod";
import { ErrorCodes } from "../errors.ts";
import { ErrorBody, OPERATIONS, type Operation } from "./operations.ts";

type Json = Record<string, unknown>;

const schemaOf = (s: z.ZodType, io: "input" | "output"): Json => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: "any" }) as Json;
  return rest;
};

const SECURITY: Record<Operation["auth"], Json[] | undefined> = {
  none: [],
  jwt: [{ bearer: [] }],
  hmac: [{ hubSignature: [], hubTimestamp: [] }],
  ticket: [{ streamTicket: [] }],
  metrics: [{ metricsToken: [] }],
};

function operation(op: Operation): Json {
  const parameters: Json[] = [];
  for (const [name, s] of Object.entries(op.params ?? {})) parameters.push({ name, in: "path", required: true, schema: schemaOf(s, "input") });
  for (const [name, s] of Object.entries(op.query ?? {}))
    parameters.push({ name, in: "query", required: !s.safeParse(undefined).success, schema: schemaOf(s, "input") });
  const responses: Json = {
    [op.ok.status]: {
      description: op.ok.description,
      ...(op.ok.schema
        ? { content: { "application/json": { schema: schemaOf(op.ok.schema, "output") } } }
        : op.ok.contentType
          ? { content: { [op.ok.contentType]: {} } }
          : {}),
    },
  };
  const byStatus = new Map<number, string[]>();
  for (const code of op.errors ?? []) {
    const status = op.errorStatus?.[code] ?? (ErrorCodes as Record<string, number>)[code] ?? 400;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  if (op.auth === "jwt") byStatus.set(401, [...(byStatus.get(401) ?? []), "UNAUTHORIZED", "TOKEN_EXPIRED"]);
  for (const [status, codes] of byStatus) {
    responses[status] = { description: `Error: ${codes.join(", ")}`, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
  }
  return {
    summary: op.summary,
    operationId: `${op.method}${op.path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    security: SECURITY[op.auth],
    ...(parameters.length ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: schemaOf(op.body, "input") } } } } : {}),
    responses,
  };
}

/** The document, built once per isolate. */
let built: Json | undefined;
export function openApiDocument(): Json {
  if (built) return built;
  const paths: Json = {};
  for (const op of OPERATIONS) ((paths[op.path] ??= {}) as Json)[op.method] = operation(op);
  built = {
    openapi: "3.1.0",
    info: { title: "Spell Coven Gateway", version: "1", description: "The Worker's HTTP API. The WebSocket protocol (/api/ws) is described in the README." },
    paths,
    components: {
      schemas: { Error: schemaOf(ErrorBody, "output") },
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "The player's JWT from the identity provider." },
        hubSignature: { type: "apiKey", in: "header", name: "X-Hub-Signature", description: "sha256=<hex HMAC-SHA256(HUB_SECRET, '<ts>.<body>')>" },
        hubTimestamp: { type: "apiKey", in: "header", name: "X-Hub-Timestamp", description: "Unix seconds, within 60 s of the Worker's clock." },
        streamTicket: { type: "apiKey", in: "query", name: "ticket", description: "From POST /api/stream/ticket." },
        metricsToken: { type: "http", scheme: "bearer", description: "The operator's METRICS_TOKEN." },
      },
    },
  };
  return built;
}
