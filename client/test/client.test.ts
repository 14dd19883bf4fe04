/**
 * SpellCovenClient against the real system: the Discord simulator, gateway-node and the Worker
 * under wrangler dev (loopback). Voice changes are made in the simulated Discord and reach the
 * client through the whole pipeline. Connections are cut either by a relay in front of the
 * Worker (fast, precise) or by stopping the Worker itself.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { SpellCovenClient, type ClientError, type ConnectionState, type EventEnvelope, type SpellCovenClientOptions } from "../src/index.ts";
import { Relay, plain, startSystem, truth, waitFor } from "./helpers.ts";

const G = DEMO_GUILD_ID;
const { alice, bob, carol, dave } = DEMO_USERS;
const { lobby, table1, table2 } = DEMO_CHANNELS;

let system: Awaited<ReturnType<typeof startSystem>>;
let relay: Relay;
const clients: SpellCovenClient[] = [];

beforeAll(async () => {
  system = await startSystem();
  relay = await Relay.start(system.workerUrl);
}, 120_000);

afterAll(async () => {
  await relay?.close();
  await system?.cleanup();
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  relay.refusing = false;
});

interface Recorder {
  client: SpellCovenClient;
  events: EventEnvelope[];
  errors: ClientError[];
  states: ConnectionState[];
  tokens: { refresh: boolean }[];
}

function makeClient(opts: Partial<SpellCovenClientOptions> & { user?: string; via?: "relay" | "worker" } = {}): Recorder {
  const sim = system.simulator!;
  const tokens: { refresh: boolean }[] = [];
  const client = new SpellCovenClient({
    url: opts.via === "worker" ? system.workerUrl : relay.url,
    getToken: (o) => (tokens.push(o), sim.mintToken(opts.user ?? alice)),
    trackRooms: false,
    backoff: { baseMs: 100, maxMs: 400 },
    ...opts,
  });
  clients.push(client);
  const rec: Recorder = { client, events: [], errors: [], states: [], tokens };
  client.on("event", (e) => rec.events.push(e));
  client.on("error", (e) => rec.errors.push(e));
  client.on("state", (s) => rec.states.push(s.state));
  return rec;
}

async function open(rec: Recorder): Promise<void> {
  if (rec.client.state !== "open") rec.client.connect();
  await waitFor(() => rec.client.state === "open", 15_000, "state open");
}

/** Every voice event of `rec` is contiguous in seq (no gap, no duplicate) from its first. */
function expectContiguous(events: EventEnvelope[]): void {
  const seqs = events.map((e) => e.seq);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i], `seq after ${seqs[i - 1]}`).toBe(seqs[i - 1]! + 1);
}

const voiceLog = (events: EventEnvelope[]) =>
  events
    .filter((e) => e.event.startsWith("voice."))
    .map((e) => `${e.event}:${(e.payload as { userId: string }).userId}:${(e.payload as { channelId: string | null }).channelId}`);

/** Waits until the client's presence equals the simulator's voice states. */
async function converged(rec: Recorder, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    () => JSON.stringify(plain(rec.client.presence.toJSON())) === JSON.stringify(truth(system)),
    timeoutMs,
    "presence to match the simulator",
  ).catch((err) => {
    throw new Error(`${err.message}: client ${JSON.stringify(rec.client.presence.toJSON())} vs simulator ${JSON.stringify(truth(system))}`);
  });
}

describe("SpellCovenClient against the real /api/ws", () => {
  it("authenticates, holds the presence snapshot and emits typed voice events", async () => {
    const sim = system.simulator!;
    const rec = makeClient();
    const auths: boolean[] = [];
    rec.client.on("auth", (ok) => auths.push(ok.resumed));
    const joined: string[] = [];
    rec.client.on("voice.joined", (payload, env) => {
      // typed: payload.userId is a string, env.seq a number
      joined.push(`${payload.userId}@${payload.channelId}#${typeof env.seq}`);
    });
    await open(rec);
    expect(rec.states).toEqual(["connecting", "open"]);
    expect(auths).toEqual([false]);
    expect(rec.client.userId).toBe(alice);
    expect(rec.client.guildId).toBe(G);
    sim.joinVoice(G, bob, table1);
    await waitFor(() => joined.length === 1, 10_000, "voice.joined");
    expect(joined).toEqual([`${bob}@${table1}#number`]);
    expect(rec.client.presence.channelOf(bob)).toBe(table1);
    await converged(rec);
    expect(rec.errors).toEqual([]);
  });

  it("resumes after a dropped connection: nothing lost, nothing twice, presence equal to Discord's", async () => {
    const sim = system.simulator!;
    const rec = makeClient({ backoff: { baseMs: 300, maxMs: 600 } });
    const resumed: boolean[] = [];
    rec.client.on("auth", (ok) => resumed.push(ok.resumed));
    await open(rec);
    sim.joinVoice(G, carol, lobby);
    await waitFor(() => rec.client.presence.channelOf(carol) === lobby, 10_000, "carol in lobby");

    relay.refusing = true;
    relay.dropAll();
    await waitFor(() => rec.client.state === "reconnecting", 5_000, "reconnecting");
    // Discord keeps changing while the player is away: joins, a move, leaves.
    sim.joinVoice(G, dave, table1);
    sim.joinVoice(G, carol, table2);
    sim.leaveVoice(G, bob);
    sim.joinVoice(G, bob, lobby);
    sim.leaveVoice(G, dave);
    await new Promise((r) => setTimeout(r, 500)); // the hub sequences them while the client is away
    relay.refusing = false;
    await waitFor(() => rec.client.state === "open", 15_000, "open again");
    expect(resumed).toEqual([false, true]);
    await converged(rec);
    expectContiguous(rec.events);
    expect(voiceLog(rec.events).slice(-6)).toEqual([
      `voice.joined:${dave}:${table1}`,
      `voice.left:${carol}:${lobby}`,
      `voice.joined:${carol}:${table2}`,
      `voice.left:${bob}:${table1}`,
      `voice.joined:${bob}:${lobby}`,
      `voice.left:${dave}:${table1}`,
    ]);
    expect(rec.errors).toEqual([]);
  });

  it("passes over a private table's chat it may not read (a skip frame) without taking it for a gap; the table's player gets it", async () => {
    const sim = system.simulator!;
    const host = makeClient({ user: alice });
    const outsider = makeClient({ user: bob });
    await open(host);
    await open(outsider);
    const room = await host.client.createRoom({ name: "Whispers", private: true });
    sim.postMessage(room.channelId, alice, "only for this table");
    await waitFor(() => host.events.some((e) => e.event === "message.created"), 10_000, "the message at the table");
    // The next public event: the table ends (no voice change, so later tests find the world as they expect).
    await host.client.endRoom(room.channelId);
    const deleted = (r: Recorder) => r.events.some((e) => e.event === "room.deleted" && e.payload.channelId === room.channelId);
    await waitFor(() => deleted(host) && deleted(outsider), 10_000, "the room deleted, for both");
    expect(outsider.events.some((e) => e.event === "message.created")).toBe(false);
    expect(outsider.errors).toEqual([]);
    expect(outsider.client.presence.cursor?.seq).toBe(host.client.presence.cursor?.seq);
  });

  it("detects a missing seq, reconnects with resume and gets the missing event", async () => {
    const sim = system.simulator!;
    const rec = makeClient();
    await open(rec);
    relay.swallowEvents(1); // the server sends it; the client never sees it
    sim.joinVoice(G, dave, table2);
    sim.leaveVoice(G, carol);
    await waitFor(() => rec.errors.some((e) => e.kind === "gap"), 10_000, "a gap error");
    await converged(rec);
    expect(voiceLog(rec.events)).toEqual([`voice.joined:${dave}:${table2}`, `voice.left:${carol}:${table2}`]);
    expectContiguous(rec.events);
    expect(rec.client.state).toBe("open");
  });

  it("presence stays equal to Discord's through a burst of joins, moves and leaves and a Worker restart", async () => {
    const sim = system.simulator!;
    const rec = makeClient({ via: "worker", maxReconnectAttempts: 30, backoff: { baseMs: 500, maxMs: 2000 } });
    await open(rec);
    const users = [alice, bob, carol, dave];
    const channels = [lobby, table1, table2];
    let n = 0;
    const churn = (count: number) => {
      for (let i = 0; i < count; i++, n++) {
        const u = users[(n * 7) % users.length]!;
        if (n % 5 === 4) sim.leaveVoice(G, u);
        else sim.joinVoice(G, u, channels[(n * 3 + (n >> 2)) % channels.length]!);
      }
    };
    churn(40);
    await converged(rec);

    await system.stopWorker();
    await waitFor(() => rec.client.state === "reconnecting", 10_000, "reconnecting");
    churn(15); // queued by gateway-node while the Worker is down
    await system.startWorker();
    await waitFor(() => rec.client.state === "open", 60_000, "open after the Worker restart");
    await converged(rec, 30_000);
    churn(10);
    await converged(rec);
    expectContiguous(rec.events);
    // A fresh client agrees with the one that lived through it all.
    const fresh = makeClient({ via: "worker", user: bob });
    await open(fresh);
    expect(fresh.client.presence.toJSON()).toEqual(rec.client.presence.toJSON());
  }, 120_000);

  it("gives up after maxReconnectAttempts (state disconnected), and reconnect() brings it back with resume", async () => {
    const sim = system.simulator!;
    const rec = makeClient({ maxReconnectAttempts: 5, backoff: { baseMs: 50, maxMs: 200 } });
    let lastAuth: boolean | null = null;
    rec.client.on("auth", (ok) => (lastAuth = ok.resumed));
    await open(rec);
    relay.refusing = true;
    const before = relay.upgrades;
    relay.dropAll();
    await waitFor(() => rec.client.state === "disconnected", 10_000, "disconnected");
    expect(relay.upgrades - before).toBe(5);
    expect(rec.client.connectionState.error?.kind).toBe("gave_up");
    expect(rec.errors.map((e) => e.kind)).toEqual(["gave_up"]);
    expect(rec.states.at(-1)).toBe("disconnected");
    // it stays there: no further attempts
    await new Promise((r) => setTimeout(r, 600));
    expect(relay.upgrades - before).toBe(5);

    sim.joinVoice(G, alice, lobby); // missed while disconnected
    await new Promise((r) => setTimeout(r, 300));
    relay.refusing = false;
    rec.client.reconnect();
    await waitFor(() => rec.client.state === "open", 10_000, "open after reconnect()");
    expect(lastAuth).toBe(true);
    await converged(rec);
    expect(rec.client.connectionState.error).toBeNull();
  });

  it("asks the app for a fresh token when the server closes with 4004, and resumes", async () => {
    const sim = system.simulator!;
    const tokens: { refresh: boolean }[] = [];
    const rec = makeClient({
      via: "worker",
      getToken: (o) => (tokens.push(o), sim.mintToken(alice, o.refresh ? {} : { expiresInSeconds: 3 })),
    });
    const auths: boolean[] = [];
    const closes: number[] = [];
    rec.client.on("auth", (ok) => auths.push(ok.resumed));
    rec.client.on("state", (s) => s.lastClose && closes.push(s.lastClose.code));
    await open(rec);
    await waitFor(() => closes.includes(4004), 15_000, "close 4004");
    sim.joinVoice(G, dave, lobby);
    await waitFor(() => auths.length === 2 && rec.client.state === "open", 10_000, "re-authenticated");
    expect(tokens).toEqual([{ refresh: false }, { refresh: true }]);
    expect(auths).toEqual([false, true]);
    await converged(rec);
    expect(rec.errors).toEqual([]);
  }, 30_000);

  it("stops at once on a rejected token (4003) with a clear error", async () => {
    const rec = makeClient({ getToken: () => "not-a-jwt" });
    rec.client.connect();
    await waitFor(() => rec.client.state === "disconnected" && rec.errors.length > 0, 10_000, "disconnected");
    expect(rec.errors[0]).toMatchObject({ kind: "fatal_close", detail: { code: 4003 } });
    expect(rec.errors[0]!.message).toMatch(/sign in again/);
    expect(rec.states).toEqual(["connecting", "disconnected"]);
  });

  it("reports invalid server messages as errors and carries on", async () => {
    const sim = system.simulator!;
    const rec = makeClient();
    await open(rec);
    let thrown: unknown = null;
    const onUncaught = (err: unknown) => (thrown = err);
    process.on("uncaughtException", onUncaught);
    try {
      relay.inject("this is not json");
      relay.inject(JSON.stringify({ v: 1, type: "event", event: "voice.joined", payload: { userId: "nope" }, ts: 1 }));
      relay.inject(JSON.stringify({ v: 1, type: "event", event: "voice.exploded", payload: {}, ts: 1, seq: "x" }));
      relay.inject(JSON.stringify({ hello: "world" }));
      relay.inject(Buffer.from([1, 2, 3]));
      // A skip frame without a usable seq: reported, and the cursor does not move.
      const cursor = rec.client.presence.cursor?.seq;
      relay.inject(JSON.stringify({ v: 1, type: "skip", seq: "next", ts: 1 }));
      await waitFor(() => rec.errors.length >= 6, 5_000, "six errors");
      expect(rec.errors.map((e) => e.kind)).toEqual(Array(6).fill("invalid_message"));
      expect(rec.client.presence.cursor?.seq).toBe(cursor);
      expect(rec.client.state).toBe("open");
      sim.joinVoice(G, carol, lobby);
      await waitFor(() => rec.client.presence.channelOf(carol) === lobby, 10_000, "a real event after the bad ones");
      await converged(rec);
      expect(thrown).toBeNull();
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });

  it("a listener that throws is reported and does not break the client", async () => {
    const sim = system.simulator!;
    const rec = makeClient();
    rec.client.on("voice.joined", () => {
      throw new Error("app bug");
    });
    await open(rec);
    sim.joinVoice(G, bob, table2);
    await waitFor(() => rec.errors.some((e) => e.kind === "listener"), 10_000, "listener error");
    await converged(rec);
    expect(rec.client.state).toBe("open");
  });

  it("notices the player's own voice dropout from their room, and the rejoin", async () => {
    const sim = system.simulator!;
    const rec = makeClient({ user: dave });
    const seen: string[] = [];
    rec.client.on("dropout", (i) => seen.push(`dropout:${i.channelId}:${i.nowIn}`));
    rec.client.on("rejoined", (i) => seen.push(`rejoined:${i.channelId}`));
    await open(rec);
    sim.leaveVoice(G, dave);
    await waitFor(() => rec.client.presence.channelOf(dave) === null, 10_000, "dave out of voice");
    rec.client.setCurrentRoom(table1);
    expect(rec.client.dropoutStatus).toBe("waiting");
    sim.joinVoice(G, dave, table1);
    await waitFor(() => rec.client.dropoutStatus === "in-voice", 10_000, "in voice");
    // the snapshot a UI renders says so too (waiting -> in-voice reports no event of its own)
    expect(rec.client.getSnapshot().dropout).toBe("in-voice");
    sim.joinVoice(G, dave, table2); // moved away
    await waitFor(() => seen.length === 1, 10_000, "dropout");
    sim.joinVoice(G, dave, table1);
    await waitFor(() => seen.length === 2, 10_000, "rejoined");
    sim.leaveVoice(G, dave);
    await waitFor(() => seen.length === 3, 10_000, "dropout 2");
    // a move (voice.left then voice.joined in one frame) says where the player went
    expect(seen).toEqual([`dropout:${table1}:${table2}`, `rejoined:${table1}`, `dropout:${table1}:null`]);
    expect(rec.client.dropoutStatus).toBe("dropped");
  });

  it("rooms: create-room reaches the list and the events, end-room removes it", async () => {
    const rec = makeClient({ via: "worker", user: bob, trackRooms: true });
    const created: string[] = [];
    const deleted: string[] = [];
    rec.client.on("room.created", (p) => created.push(p.channelId));
    rec.client.on("room.deleted", (p) => deleted.push(p.channelId));
    await open(rec);
    const room = await rec.client.createRoom({ name: "Client test table", userLimit: 3 });
    expect(room).toMatchObject({ name: "Client test table", userLimit: 3, creatorId: bob, private: false });
    expect(rec.client.currentRoom).toBe(room.channelId);
    await waitFor(() => created.includes(room.channelId), 10_000, "room.created");
    await waitFor(() => rec.client.rooms?.some((r) => r.channelId === room.channelId), 10_000, "room in the list");
    await rec.client.endRoom(room.channelId);
    await waitFor(() => deleted.includes(room.channelId), 10_000, "room.deleted");
    expect(rec.client.rooms?.some((r) => r.channelId === room.channelId)).toBe(false);
    expect(rec.client.currentRoom).toBeNull();
    const err = await rec.client.endRoom(room.channelId).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "RoomsApiError", code: "ROOM_NOT_FOUND", status: 404 });
    expect((err as { requestId: string | null }).requestId).toBeTruthy();
  });

  it("a server that stops answering on an open socket turns responsive false, and true again when it answers", async () => {
    const rec = makeClient({ pingIntervalMs: 300, slowAfterMs: 200, pongTimeoutMs: 20_000 });
    const seen: boolean[] = [];
    rec.client.on("state", (s) => seen.push(s.responsive));
    await open(rec);
    expect(rec.client.getSnapshot().responsive).toBe(true);
    relay.muted = true;
    try {
      await waitFor(() => !rec.client.getSnapshot().responsive, 5000, "responsive: false");
      expect(rec.client.state).toBe("open"); // the socket is still open: only the answers stopped
    } finally {
      relay.muted = false;
    }
    await waitFor(() => rec.client.getSnapshot().responsive, 5000, "responsive: true");
    expect(seen).toContain(false);
    expect(rec.client.state).toBe("open");
  });

  it("leaveRoom calls POST /api/rooms/:channelId/leave and answers the server's error as a RoomsApiError", async () => {
    const rec = makeClient({ via: "worker", user: carol, trackRooms: true });
    await open(rec);
    const err = await rec.client.leaveRoom("1060000000000000999").catch((e: unknown) => e);
    // ROOM_NOT_FOUND from the hub's seat release; NOT_FOUND (no such route) on a Worker without it
    expect(err).toMatchObject({ name: "RoomsApiError", status: 404 });
    expect(["ROOM_NOT_FOUND", "NOT_FOUND"]).toContain((err as { code: string }).code);
  });

  it("knows who is muted or deafened in Discord: live, across a resume, and in a fresh connection's snapshot", async () => {
    const sim = system.simulator!;
    const rec = makeClient({ backoff: { baseMs: 300, maxMs: 600 } });
    const resumed: boolean[] = [];
    rec.client.on("auth", (ok) => resumed.push(ok.resumed));
    await open(rec);
    sim.joinVoice(G, dave, table2);
    sim.setVoiceFlags(G, dave, { selfMute: true });
    await waitFor(() => rec.client.getSnapshot().voiceFlags[dave]?.selfMute === true, 10_000, "dave muted");
    expect(rec.client.presence.flagsOf(dave)).toEqual({ selfMute: true, selfDeaf: false, serverMute: false, serverDeaf: false });
    expect(rec.client.getSnapshot().presence[table2]).toContain(dave); // presence as it always was

    // Server-deafened while the player is away: the resume brings it.
    relay.refusing = true;
    relay.dropAll();
    await waitFor(() => rec.client.state === "reconnecting", 5_000, "reconnecting");
    sim.setServerVoiceFlags(G, dave, { deaf: true });
    await new Promise((r) => setTimeout(r, 500));
    relay.refusing = false;
    await waitFor(() => rec.client.presence.flagsOf(dave).serverDeaf, 15_000, "dave deafened after the resume");
    expect(resumed).toEqual([false, true]);

    // Another player connecting now gets it in auth.ok's snapshot.
    const other = makeClient({ user: bob });
    await open(other);
    expect(other.client.getSnapshot().voiceFlags[dave]).toEqual({ selfMute: true, selfDeaf: false, serverMute: false, serverDeaf: true });

    // Undeafened and gone: nobody is flagged any more.
    sim.setServerVoiceFlags(G, dave, { deaf: false });
    sim.leaveVoice(G, dave);
    await waitFor(() => other.client.presence.channelOf(dave) === null, 10_000, "dave left");
    expect(other.client.getSnapshot().voiceFlags[dave]).toBeUndefined();
    expect(rec.errors).toEqual([]);
    expect(other.errors).toEqual([]);
  });
});
