/**
 * `npm run dev-token -- [userId|username] [expiresInSeconds]`: prints a development JWT minted by
 * the simulator's identity provider for the running local system (default user: alice).
 */
import { readLocalRun } from "./lib/local-run.ts";

const [who = "alice", expires] = process.argv.slice(2);
const run = readLocalRun();
if (!run.controlUrl) throw new Error("The local run talks to Discord: get a token from your identity provider instead.");
const users = (await (await fetch(`${run.controlUrl}/control/users`)).json()) as { id: string; username: string }[];
const user = users.find((u) => u.id === who || u.username === who);
if (!user) throw new Error(`No simulated user "${who}"; known: ${users.map((u) => u.username).join(", ")}`);
const res = await fetch(`${run.controlUrl}/control/token`, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ userId: user.id, ...(expires ? { expiresInSeconds: Number(expires) } : {}) }),
});
if (!res.ok) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
console.log(((await res.json()) as { token: string }).token);
