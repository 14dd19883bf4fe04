import { startSimulator, DEMO_GUILD_ID } from "@spell-coven/simulator";
import { createLogger } from "@spell-coven/common/log";
import { DiscordRestClient } from "@spell-coven/common/rest/index";
const LIMITS = { globalPerSecond: 100, routeLimit: 3, routeWindowMs: 400 };
const sim = await startSimulator({ seed: true, rateLimits: LIMITS });
const chans = Array.from({ length: 20 }, (_, i) => sim.addChannel(DEMO_GUILD_ID, { name: `b${i}`, type: 0 }).id);
const c = new DiscordRestClient({ token: sim.botToken, apiBase: sim.apiBase, logger: createLogger("WARN"), rateLimits: { globalPerSecond: 100 } });
sim.clearRequests();
const t0 = Date.now();
const kinds = ["m","t","m","g","m","t","m","g","m","t"];
await Promise.all(Array.from({length:200},(_,i)=>{const ch=chans[i%20]!; const k=kinds[Math.floor(i/20)]; return k==="m"?c.sendMessage(ch,"x"):k==="t"?c.triggerTyping(ch):c.request("GET",`/channels/${ch}`)}));
console.log("wall", Date.now()-t0);
const r = sim.requests();
const hist: Record<number, number> = {};
for (const x of r) { const b = Math.floor((x.at - t0)/100)*100; hist[b]=(hist[b]??0)+1; }
console.log(hist);
await sim.close();
const byCh: Record<string, string[]> = {};
for (const x of r) { const ch = x.path.split("/")[4]!; (byCh[ch] ??= []).push(`${x.at - t0}:${x.method[0]}${x.path.split("/")[5] ?? "g"}`); }
console.log(Object.values(byCh).slice(0, 3).map((a) => a.join(" ")).join("\n"));
