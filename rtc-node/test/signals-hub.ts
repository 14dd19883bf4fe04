/** A stand-in for the Worker's POST /api/internal/signals: checks the HMAC and the schema as the Worker does, records what arrived. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { InternalSignalsBody, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyHubRequest } from "@spell-coven/common";

export interface ReceivedSignal {
  at: number;
  userId: string;
  channelId: string;
  speaking: boolean;
  level?: number;
}

export class SignalsHub {
  readonly secret = "signals-hub-secret-0123456789abcdef0123";
  readonly received: ReceivedSignal[] = [];
  rejected = 0;
  private server!: Server;
  url = "";
  /** Called for every signal as it arrives (the benchmark's subscriber). */
  onSignal: ((s: ReceivedSignal) => void) | null = null;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", async () => {
        const raw = Buffer.concat(chunks);
        const check = await verifyHubRequest(
          this.secret,
          req.headers[TIMESTAMP_HEADER.toLowerCase()] as string,
          req.headers[SIGNATURE_HEADER.toLowerCase()] as string,
          raw,
        );
        const body = check.ok ? InternalSignalsBody.safeParse(JSON.parse(raw.toString())) : null;
        if (!check.ok || !body?.success) {
          this.rejected++;
          return void res.writeHead(check.ok ? 400 : 401, { "content-type": "application/json" }).end("{}");
        }
        const at = Date.now();
        for (const s of body.data.signals) {
          const r: ReceivedSignal = { at, ...s.payload };
          this.received.push(r);
          this.onSignal?.(r);
        }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ delivered: body.data.signals.length, requestId: "t" }));
      });
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/internal/signals`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}
