/**
 * Listens on a @discordjs/voice connection: subscribes to every user who starts speaking and
 * feeds their (transport- and DAVE-decrypted) Opus packets to a ToneAnalyzer per speaker. Also
 * counts the DAVE decryption failures the library reports and receive streams it destroyed.
 */
import { EndBehaviorType, type VoiceConnection } from "@discordjs/voice";
import { ToneAnalyzer, type HeardSpeaker } from "./toneAnalyzer.ts";

export interface Heard {
  speakers: Record<string, HeardSpeaker>;
  /** "Failed to decrypt a packet" reports from the client's DAVE session. */
  daveDecryptFailures: number;
  /** Receive streams the library destroyed (e.g. the transition-0 decrypt bug). */
  streamErrors: number;
}

export class VoiceListener {
  private readonly analyzers = new Map<string, ToneAnalyzer>();
  private daveDecryptFailures = 0;
  private streamErrors = 0;

  /** The connection must be created with `debug: true` for DAVE failures to be counted. */
  constructor(private readonly connection: VoiceConnection) {
    connection.receiver.speaking.on("start", (userId) => this.subscribe(userId));
    connection.on("debug", (message) => {
      if (message.includes("Failed to decrypt a packet")) this.daveDecryptFailures++;
    });
  }

  heard(): Heard {
    const speakers: Record<string, HeardSpeaker> = {};
    for (const [userId, analyzer] of this.analyzers) speakers[userId] = analyzer.result();
    return { speakers, daveDecryptFailures: this.daveDecryptFailures, streamErrors: this.streamErrors };
  }

  /** Forgets what was heard so far (a test's "from now on"). */
  reset(): void {
    for (const a of this.analyzers.values()) a.close();
    this.analyzers.clear();
    this.daveDecryptFailures = 0;
    this.streamErrors = 0;
  }

  close(): void {
    for (const a of this.analyzers.values()) a.close();
    this.analyzers.clear();
  }

  private subscribe(userId: string): void {
    if (this.connection.receiver.subscriptions.has(userId)) return;
    const stream = this.connection.receiver.subscribe(userId, { end: { behavior: EndBehaviorType.AfterSilence, duration: 1000 } });
    stream.on("data", (packet: Buffer) => {
      let analyzer = this.analyzers.get(userId);
      if (!analyzer) this.analyzers.set(userId, (analyzer = new ToneAnalyzer()));
      analyzer.push(packet);
    });
    stream.on("error", () => this.streamErrors++);
  }
}
