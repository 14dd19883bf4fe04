/** What `npm start` writes for the helper scripts (dev-token, post-event, watch) of the same run. */
import { readFileSync } from "node:fs";

export const LOCAL_RUN_FILE = ".wrangler/local-run.json";

export interface LocalRun {
  workerUrl: string;
  /** The simulator's base URL; null when running against Discord. */
  controlUrl: string | null;
  guildId: string;
  hubSecret: string;
}

export function readLocalRun(): LocalRun {
  try {
    return JSON.parse(readFileSync(LOCAL_RUN_FILE, "utf8")) as LocalRun;
  } catch {
    throw new Error(`${LOCAL_RUN_FILE} not found: start the system with \`npm start\` first.`);
  }
}
