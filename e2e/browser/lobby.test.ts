/**
 * The lobby page (the React app in lobby/) in a real browser (Debian's headless Chromium driven by
 * playwright-core) against the local run: the Discord simulator, gateway-node and the Worker under
 * wrangler dev, with the lobby built with React's development build. Three browser contexts are
 * three players: alice (desktop), bob (phone) and carol (desktop). Any console error or warning
 * (React's included) or page error fails the run. Screenshots of every flow go to
 * test-artifacts/screenshots/.
 *
 * Browser-side code is passed to page.evaluate as strings: this file is typechecked without the
 * DOM library.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { startSystem, truth } from "../../client/test/helpers.ts";
import { launchChromium, playerContext, shot, watchConsole } from "./browser.ts";

const G = DEMO_GUILD_ID;
const { alice, bob, carol } = DEMO_USERS;
const TABLE = "Friday <Commander> & friends";
const PHONE = { width: 390, height: 844 };

let system: Awaited<ReturnType<typeof startSystem>>;
let browser: Browser;
let alicePage: Page;
let bobPage: Page;
let carolPage: Page;
const contexts: BrowserContext[] = [];
const problems: string[] = [];
let roomId = "";
let inviteUrl = "";
/** Whether the Worker has `POST /api/rooms/:channelId/leave` (the hub's seat release). */
let canLeave = false;

async function newPlayer(name: string, viewport = { width: 1280, height: 860 }): Promise<Page> {
  const context = await playerContext(browser, system.workerUrl, { viewport });
  contexts.push(context);
  const page = await context.newPage();
  watchConsole(page, problems, name);
  return page;
}

async function signIn(page: Page, username: string, path = "/"): Promise<void> {
  await page.goto(`${system.workerUrl}${path}`);
  await page.getByRole("button", { name: `Sign in as ${username}` }).click();
  await page.locator("#live[data-state=open]").waitFor({ timeout: 15_000 });
}

const card = (page: Page, channelId: string) => page.locator(`[data-testid=room][data-channel-id="${channelId}"]`);
const voiceChip = (page: Page, channelId: string, userId: string) => card(page, channelId).locator(`[data-testid=voice] [data-user-id="${userId}"]`);
const banner = (page: Page) => page.getByTestId("connection-banner");
const path = (page: Page) => new URL(page.url()).pathname;

/** The page's client state, for the no-lost-event checks. */
async function pageState(page: Page): Promise<{ presence: Record<string, string[]>; seqs: number[] }> {
  return (await page.evaluate("({ presence: window.__lobby.client.presence.toJSON(), seqs: [...window.__lobby.seqs] })")) as {
    presence: Record<string, string[]>;
    seqs: number[];
  };
}

function expectContiguous(seqs: number[]): void {
  for (let i = 1; i < seqs.length; i++) expect(seqs[i], `seq after ${seqs[i - 1]}`).toBe(seqs[i - 1]! + 1);
}

beforeAll(async () => {
  // wrangler dev builds the lobby itself (wrangler.toml [build]) before it serves. Two tables per
  // player per window, so the rate limit can be met.
  system = await startSystem({ workerVars: { ROOM_CREATE_LIMIT: "2" } });
  browser = await launchChromium();
  alicePage = await newPlayer("alice");
  bobPage = await newPlayer("bob", PHONE); // bob plays from his phone
  carolPage = await newPlayer("carol");
  const token = await system.simulator!.mintToken(carol);
  const probe = await fetch(`${system.workerUrl}/api/rooms/1060000000000000999/leave`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
  canLeave = ((await probe.json()) as { error?: { code?: string } }).error?.code !== "NOT_FOUND";
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await system?.cleanup();
});

describe("the lobby page", () => {
  it("alice signs in by picking a simulated user; the page has its favicon", async () => {
    await alicePage.goto(`${system.workerUrl}/`);
    await alicePage.getByRole("button", { name: "Sign in as alice" }).waitFor();
    await shot(alicePage, "01-sign-in");
    await alicePage.getByRole("button", { name: "Sign in as alice" }).click();
    await alicePage.locator("#live[data-state=open]").waitFor({ timeout: 15_000 });
    await expect(alicePage.locator("#me-name").textContent()).resolves.toBe("alice");
    await expect(alicePage.locator("#live-text").textContent()).resolves.toBe("Live");
    await expect(banner(alicePage).isHidden()).resolves.toBe(true);
    const icon = await alicePage.locator("link[rel=icon]").getAttribute("href");
    const res = await fetch(new URL(icon!, system.workerUrl));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("image/svg+xml");
    await shot(alicePage, "02-lobby-signed-in");
  });

  it("alice creates a private table: it opens as its own page, with an invite link and Open in Discord", async () => {
    await alicePage.getByLabel("Table name").fill(TABLE);
    await alicePage.getByLabel("Seats").fill("4");
    await alicePage.getByLabel(/Private/).check();
    await alicePage.getByRole("button", { name: "Create table" }).click();
    await alicePage.waitForURL(/\/table\/\d+$/, { timeout: 15_000 });
    roomId = path(alicePage).split("/").pop()!;
    const created = card(alicePage, roomId);
    // user text is text, never markup
    await expect(created.locator("h1").textContent()).resolves.toBe(TABLE);
    await expect(created.locator(".badge", { hasText: "Private" }).count()).resolves.toBe(1);
    await expect(created.getByText("You're seated").count()).resolves.toBe(1);
    const discord = await created.getByTestId("open-in-discord").getAttribute("href");
    expect(discord).toBe(`${system.simulator!.url}/channels/${G}/${roomId}`);
    const simPage = await fetch(discord!);
    expect(simPage.status).toBe(200); // the simulator's page stands in for discord.com locally

    await created.getByRole("button", { name: "Invite" }).click();
    const input = created.getByTestId("invite-url");
    await input.waitFor({ timeout: 10_000 });
    inviteUrl = await input.inputValue();
    const u = new URL(inviteUrl);
    expect(u.origin).toBe(system.workerUrl);
    expect(u.searchParams.get("room")).toBe(roomId);
    expect(u.searchParams.get("invite")).toBeTruthy();
    await created.getByRole("button", { name: "Copy link" }).click();
    await created.getByRole("button", { name: "Copied!" }).waitFor();
    await expect(alicePage.evaluate("navigator.clipboard.readText()")).resolves.toBe(inviteUrl);
    await shot(alicePage, "03-table-page-private-with-invite");
    // back to the list: the table is a card there, its name a link to the page
    await alicePage.getByRole("link", { name: "← All tables" }).click();
    await card(alicePage, roomId).getByRole("link", { name: TABLE }).waitFor();
    expect(path(alicePage)).toBe("/");
  });

  it("bob opens the invite link on his phone, signs in and lands on the table's page, seated", async () => {
    expect(inviteUrl, "needs the invite from the previous test").not.toBe("");
    const u = new URL(inviteUrl);
    await bobPage.goto(`${system.workerUrl}/${u.search}`);
    await bobPage.getByText("You've been invited to a table").waitFor();
    // the invite is taken out of the address bar at once
    expect(new URL(bobPage.url()).searchParams.get("invite")).toBeNull();
    await shot(bobPage, "04-phone-invited-sign-in");
    await bobPage.getByRole("button", { name: "Sign in as bob" }).click();
    await bobPage.getByText(/through an invite/).waitFor({ timeout: 15_000 });
    await bobPage.waitForURL(`**/table/${roomId}`);
    const bobCard = card(bobPage, roomId);
    await bobCard.getByText("You're seated").waitFor();
    await expect(bobCard.locator(".seated").textContent()).resolves.toMatch(/alice.*bob \(you\)/);
    await expect(bobCard.getByRole("button", { name: "End table" }).count()).resolves.toBe(0); // not his
    await shot(bobPage, "05-phone-table-page-joined-through-invite");
  });

  it("carol, not invited, sees the private table without Invite or Open in Discord; table links work when opened directly", async () => {
    await signIn(carolPage, "carol", `/table/${roomId}`);
    const c = card(carolPage, roomId);
    await c.getByText("Invite only").waitFor();
    await expect(c.getByRole("button", { name: "Invite" }).count()).resolves.toBe(0);
    await expect(c.getByRole("button", { name: /Join/ }).count()).resolves.toBe(0);
    await expect(c.getByTestId("open-in-discord").count()).resolves.toBe(0);
    await shot(carolPage, "06-outsider-private-table-no-invite");
    await carolPage.goto(`${system.workerUrl}/table/1060000000000000999`);
    await carolPage.getByTestId("table-gone").waitFor({ timeout: 15_000 });
    await carolPage.getByRole("link", { name: "← All tables" }).click();
    await card(carolPage, roomId).waitFor();
  });

  it("a simulated voice join appears in both pages within a second", async () => {
    const sim = system.simulator!;
    const started = Date.now();
    sim.joinVoice(G, bob, roomId);
    await Promise.all([voiceChip(alicePage, roomId, bob).waitFor({ timeout: 1000 }), voiceChip(bobPage, roomId, bob).waitFor({ timeout: 1000 })]);
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(voiceChip(bobPage, roomId, bob).textContent()).resolves.toContain("bob (you)");
    await shot(alicePage, "07-voice-join-alice");
    await shot(bobPage, "07-voice-join-bob-phone");
  });

  it("bob's dropout notice names the table's channel, survives a reload, and goes when he is back", async () => {
    const sim = system.simulator!;
    sim.leaveVoice(G, bob);
    const notice = bobPage.getByTestId("dropout");
    await notice.waitFor({ timeout: 5000 });
    await expect(notice.textContent()).resolves.toMatch(`dropped out of voice. You left the voice channel of ${TABLE}.`);
    await shot(bobPage, "08-phone-voice-dropout");
    await bobPage.reload();
    await bobPage.locator("#live[data-state=open]").waitFor({ timeout: 15_000 });
    await expect(notice.textContent()).resolves.toMatch(`You left the voice channel of ${TABLE}.`);
    await card(bobPage, roomId).waitFor();
    await shot(bobPage, "09-phone-dropout-after-reload");
    sim.joinVoice(G, bob, roomId);
    await notice.waitFor({ state: "detached", timeout: 5000 });
    // moving to another channel is a dropout too, and the notice says where he went, by name
    sim.joinVoice(G, bob, DEMO_CHANNELS.lobby);
    await notice.waitFor({ timeout: 5000 });
    await expect(notice.textContent()).resolves.toMatch(`You moved from the voice channel of ${TABLE} to Lobby.`);
    sim.joinVoice(G, bob, roomId);
    await notice.waitFor({ state: "detached", timeout: 5000 });
  });

  it("'Live' turns to a warning when the Worker stops answering with the socket still open, and back when it answers", async () => {
    system.pauseWorker();
    try {
      // The lobby pings every 10 s and warns 3 s after an unanswered ping.
      await alicePage.locator("#live[data-state=unresponsive]").waitFor({ timeout: 20_000 });
      await expect(alicePage.locator("#live-text").textContent()).resolves.toBe("Not answering");
      await banner(alicePage)
        .getByText(/not answering/)
        .waitFor();
      await shot(alicePage, "10-live-not-answering");
    } finally {
      system.resumeWorker();
    }
    await alicePage.locator("#live[data-state=open]").waitFor({ timeout: 40_000 });
    await bobPage.locator("#live[data-state=open]").waitFor({ timeout: 40_000 });
    await expect(banner(alicePage).isHidden()).resolves.toBe(true);
  }, 90_000);

  it("when the Worker goes away both pages show the banner, then recover without missing an event", async () => {
    const sim = system.simulator!;
    await system.stopWorker();
    await Promise.all([
      banner(alicePage)
        .getByText(/Connection lost/)
        .waitFor({ timeout: 10_000 }),
      banner(bobPage)
        .getByText(/Connection lost/)
        .waitFor({ timeout: 10_000 }),
    ]);
    await shot(alicePage, "11-banner-reconnecting");
    // Discord keeps going meanwhile; gateway-node holds the events until the Worker is back.
    sim.joinVoice(G, alice, roomId);
    sim.joinVoice(G, carol, DEMO_CHANNELS.lobby);
    sim.leaveVoice(G, bob);
    await system.startWorker();
    await Promise.all([
      alicePage.locator("#live[data-state=open]").waitFor({ timeout: 40_000 }),
      bobPage.locator("#live[data-state=open]").waitFor({ timeout: 40_000 }),
    ]);
    await Promise.all([voiceChip(alicePage, roomId, alice).waitFor({ timeout: 15_000 }), voiceChip(bobPage, roomId, alice).waitFor({ timeout: 15_000 })]);
    await voiceChip(alicePage, roomId, bob).waitFor({ state: "detached", timeout: 15_000 });
    await expect(banner(alicePage).isHidden()).resolves.toBe(true);
    for (const page of [alicePage, bobPage]) {
      const expected = JSON.stringify(truth(system));
      const deadline = Date.now() + 15_000;
      let state = await pageState(page);
      while (JSON.stringify(state.presence) !== expected && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        state = await pageState(page);
      }
      expect(state.presence).toEqual(truth(system));
      expectContiguous(state.seqs);
    }
    await shot(alicePage, "12-recovered");
  }, 90_000);

  it("after five failed attempts the Reconnect button appears, and it works", async () => {
    const sim = system.simulator!;
    await system.stopWorker();
    const reconnect = banner(alicePage).getByRole("button", { name: "Reconnect" });
    await reconnect.waitFor({ timeout: 45_000 });
    await expect(banner(alicePage).textContent()).resolves.toMatch(/after 5 attempts/);
    await expect(alicePage.locator("#live-text").textContent()).resolves.toBe("Offline");
    await shot(alicePage, "13-gave-up-reconnect-button");
    await shot(bobPage, "13-gave-up-phone");
    sim.leaveVoice(G, alice); // missed while offline
    await system.startWorker();
    await reconnect.click();
    await alicePage.locator("#live[data-state=open]").waitFor({ timeout: 15_000 });
    await voiceChip(alicePage, roomId, alice).waitFor({ state: "detached", timeout: 10_000 });
    await expect(banner(alicePage).isHidden()).resolves.toBe(true);
    const state = await pageState(alicePage);
    expect(state.presence).toEqual(truth(system));
    expectContiguous(state.seqs);
    // the others gave up too: bring them back
    for (const page of [bobPage, carolPage]) {
      const again = banner(page).getByRole("button", { name: "Reconnect" });
      if (await again.isVisible()) await again.click();
      await page.locator("#live[data-state=open]").waitFor({ timeout: 15_000 });
    }
  }, 90_000);

  it("alice ends her table (light theme); it disappears from every page and bob, seated there, is told", async () => {
    await alicePage.emulateMedia({ colorScheme: "light" });
    const aliceCard = card(alicePage, roomId);
    await aliceCard.getByRole("button", { name: "End table" }).click();
    await shot(alicePage, "14-confirm-end-light-theme");
    await aliceCard.getByRole("button", { name: "Yes, end it" }).click();
    await Promise.all([aliceCard.waitFor({ state: "detached", timeout: 10_000 }), card(carolPage, roomId).waitFor({ state: "detached", timeout: 10_000 })]);
    const ended = bobPage.getByTestId("table-ended");
    await ended.waitFor({ timeout: 10_000 });
    await expect(ended.textContent()).resolves.toMatch(`${TABLE} has ended. Its host ended the table`);
    await expect(bobPage.getByTestId("table-gone").count()).resolves.toBe(1); // he was on its page
    await expect(alicePage.getByTestId("table-ended").count()).resolves.toBe(0); // she ended it herself
    await shot(bobPage, "15-phone-host-ended-the-table");
    await ended.getByRole("button", { name: "Dismiss" }).click();
    await ended.waitFor({ state: "detached" });
    await alicePage.emulateMedia({ colorScheme: "dark" });
  });

  it("one table at a time: bob moves to carol's table (his old seat goes), then leaves his seat", async (ctx) => {
    if (!canLeave) ctx.skip(); // the Worker has no seat release yet (POST /api/rooms/:channelId/leave)
    await carolPage.getByLabel("Table name").fill("Carol's table");
    await carolPage.getByRole("button", { name: "Create table" }).click();
    await carolPage.waitForURL(/\/table\/\d+$/, { timeout: 15_000 });
    const carolRoom = path(carolPage).split("/").pop()!;
    // bob sits at a table of alice's first, then moves
    await alicePage.goto(`${system.workerUrl}/`);
    await alicePage.getByLabel("Table name").fill("Alice's second");
    await alicePage.getByRole("button", { name: "Create table" }).click();
    await alicePage.waitForURL(/\/table\/\d+$/, { timeout: 15_000 });
    const aliceRoom = path(alicePage).split("/").pop()!;
    await bobPage.goto(`${system.workerUrl}/`);
    await card(bobPage, aliceRoom).getByRole("button", { name: "Join table" }).click();
    await card(bobPage, aliceRoom).getByText("You're seated").waitFor({ timeout: 10_000 });
    await bobPage.getByRole("link", { name: "← All tables" }).click();
    await card(bobPage, carolRoom).getByRole("button", { name: "Move to this table" }).click();
    await card(bobPage, carolRoom).getByText("You're seated").waitFor({ timeout: 10_000 });
    await bobPage.getByText("You joined Carol's table and gave up your seat at Alice's second.").waitFor();
    await card(alicePage, aliceRoom).locator(".seated", { hasText: "bob" }).waitFor({ state: "detached", timeout: 10_000 });
    await shot(bobPage, "16-phone-moved-to-another-table");
    await card(bobPage, carolRoom).getByRole("button", { name: "Leave seat" }).click();
    await card(bobPage, carolRoom).getByRole("button", { name: "Join table" }).waitFor({ timeout: 10_000 });
    await card(carolPage, carolRoom).locator(".seated", { hasText: "bob" }).waitFor({ state: "detached", timeout: 10_000 });
    await shot(bobPage, "17-phone-left-seat");
  });

  it("a refused create shows the server's message and when to retry, and stays until dismissed", async () => {
    await alicePage.goto(`${system.workerUrl}/`);
    // Two tables per player per window: alice made one (two if the previous test ran).
    const error = alicePage.getByTestId("error");
    for (let i = 0; i < 3 && (await error.count()) === 0; i++) {
      if (path(alicePage) !== "/") await alicePage.getByRole("link", { name: /Spell Coven/ }).click();
      await alicePage.getByLabel("Table name").fill(`Extra table ${i}`);
      await alicePage.getByRole("button", { name: "Create table" }).click();
      await Promise.race([alicePage.waitForURL(/\/table\/\d+$/, { timeout: 15_000 }), error.waitFor({ timeout: 15_000 })]);
    }
    await error.waitFor();
    await expect(error.textContent()).resolves.toMatch(/You can create 2 rooms per 10 minutes; try again in \d+ s\..*You can try again in \d+:\d\d\./);
    await shot(alicePage, "18-rate-limited-error");
    await new Promise((r) => setTimeout(r, 5000)); // longer than a toast stays
    await expect(error.isVisible()).resolves.toBe(true);
    await error.getByRole("button", { name: "Dismiss" }).click();
    await error.waitFor({ state: "detached" });
    expect(problems).toEqual([]);
  }, 60_000);
});
