/**
 * The lobby page in a real browser (Debian's headless Chromium driven by playwright-core) against
 * the local run: the Discord simulator, gateway-node and the Worker under wrangler dev. Two
 * browser contexts are two players, alice and bob. Screenshots of the main states go to
 * test-artifacts/screenshots/.
 *
 * Browser-side code is passed to page.evaluate as strings: this file is typechecked without the
 * DOM library.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { startSystem, truth } from "../../client/test/helpers.ts";
import { launchChromium, playerContext } from "./browser.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SHOTS = join(ROOT, "test-artifacts/screenshots");
const G = DEMO_GUILD_ID;
const { alice, bob, carol } = DEMO_USERS;

let system: Awaited<ReturnType<typeof startSystem>>;
let browser: Browser;
let alicePage: Page;
let bobPage: Page;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];
let roomId = "";
let inviteUrl = "";

async function newPlayer(viewport = { width: 1280, height: 860 }): Promise<Page> {
  const context = await playerContext(browser, system.workerUrl, { viewport });
  contexts.push(context);
  const page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(err.message));
  return page;
}

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

async function signIn(page: Page, username: string, path = "/"): Promise<void> {
  await page.goto(`${system.workerUrl}${path}`);
  await page.getByRole("button", { name: `Sign in as ${username}` }).click();
  await page.locator("#live[data-state=open]").waitFor({ timeout: 15_000 });
}

const card = (page: Page, channelId: string) => page.locator(`[data-testid=room][data-channel-id="${channelId}"]`);
const voiceChip = (page: Page, channelId: string, userId: string) => card(page, channelId).locator(`[data-testid=voice] [data-user-id="${userId}"]`);
const banner = (page: Page) => page.getByTestId("connection-banner");

/** The page's client state, for the no-lost-event checks. */
async function pageState(page: Page): Promise<{ presence: Record<string, string[]>; seqs: number[] }> {
  return (await page.evaluate("({ presence: window.__lobby.client.presence.toJSON(), seqs: [...window.__lobby.seqs] })")) as { presence: Record<string, string[]>; seqs: number[] };
}

function expectContiguous(seqs: number[]): void {
  for (let i = 1; i < seqs.length; i++) expect(seqs[i], `seq after ${seqs[i - 1]}`).toBe(seqs[i - 1]! + 1);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // wrangler dev builds the lobby itself (wrangler.toml [build]) before it serves.
  system = await startSystem();
  browser = await launchChromium();
  alicePage = await newPlayer();
  bobPage = await newPlayer({ width: 390, height: 844 }); // bob plays from his phone
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await system?.cleanup();
});

describe("the lobby page", () => {
  it("alice signs in by picking a simulated user", async () => {
    await alicePage.goto(`${system.workerUrl}/`);
    await alicePage.getByRole("button", { name: "Sign in as alice" }).waitFor();
    await shot(alicePage, "01-sign-in");
    await alicePage.getByRole("button", { name: "Sign in as alice" }).click();
    await alicePage.locator("#live[data-state=open]").waitFor({ timeout: 15_000 });
    await expect(alicePage.locator("#me-name").textContent()).resolves.toBe("alice");
    await expect(banner(alicePage).isHidden()).resolves.toBe(true);
    await shot(alicePage, "02-lobby-signed-in");
  });

  it("alice creates a private table and copies its invite link", async () => {
    await alicePage.getByLabel("Table name").fill("Friday <Commander> & friends");
    await alicePage.getByLabel("Seats").fill("4");
    await alicePage.getByLabel(/Private/).check();
    await alicePage.getByRole("button", { name: "Create table" }).click();
    const created = alicePage.locator("[data-testid=room]", { hasText: "Friday <Commander> & friends" });
    await created.waitFor({ timeout: 15_000 });
    roomId = (await created.getAttribute("data-channel-id"))!;
    expect(roomId).toMatch(/^\d+$/);
    // user text is text, never markup
    await expect(created.locator("h3").textContent()).resolves.toBe("Friday <Commander> & friends");
    await expect(created.locator(".badge", { hasText: "Private" }).count()).resolves.toBe(1);
    await expect(created.getByText("You're seated").count()).resolves.toBe(1);

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
    await shot(alicePage, "03-private-table-with-invite");
  });

  it("bob opens the invite link, signs in and takes a seat", async () => {
    expect(inviteUrl, "needs the invite from the previous test").not.toBe("");
    const u = new URL(inviteUrl);
    await bobPage.goto(`${system.workerUrl}/${u.search}`);
    await bobPage.getByText("You've been invited to a table").waitFor();
    await shot(bobPage, "04-phone-invited-sign-in");
    await bobPage.getByRole("button", { name: "Sign in as bob" }).click();
    await bobPage.getByText(/through an invite/).waitFor({ timeout: 15_000 });
    const bobCard = card(bobPage, roomId);
    await bobCard.getByText("You're seated").waitFor();
    await expect(bobCard.locator(".seated").textContent()).resolves.toMatch(/alice.*bob \(you\)/);
    // the invite is consumed from the address bar
    expect(new URL(bobPage.url()).searchParams.get("invite")).toBeNull();
    await shot(bobPage, "05-phone-joined-through-invite");
  });

  it("a simulated voice join appears in both pages within a second", async () => {
    const sim = system.simulator!;
    const started = Date.now();
    sim.joinVoice(G, bob, roomId);
    await Promise.all([voiceChip(alicePage, roomId, bob).waitFor({ timeout: 1000 }), voiceChip(bobPage, roomId, bob).waitFor({ timeout: 1000 })]);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(1000);
    await expect(voiceChip(bobPage, roomId, bob).textContent()).resolves.toContain("bob (you)");
    await shot(alicePage, "06-voice-join-alice");
    await shot(bobPage, "06-voice-join-bob-phone");
  });

  it("bob sees a notice when he drops out of his table's voice channel, and it goes when he is back", async () => {
    const sim = system.simulator!;
    sim.leaveVoice(G, bob);
    const notice = bobPage.getByTestId("dropout");
    await notice.waitFor({ timeout: 5000 });
    await expect(notice.textContent()).resolves.toMatch(/dropped out of voice.*Friday <Commander> & friends/);
    await shot(bobPage, "07-phone-voice-dropout");
    sim.joinVoice(G, bob, roomId);
    await notice.waitFor({ state: "detached", timeout: 5000 });
    // moving to another channel is a dropout too, and the notice says where he went
    sim.joinVoice(G, bob, DEMO_CHANNELS.lobby);
    await notice.waitFor({ timeout: 5000 });
    await expect(notice.textContent()).resolves.toMatch(/moved from the voice channel of Friday <Commander> & friends to another voice channel/);
    sim.joinVoice(G, bob, roomId);
    await notice.waitFor({ state: "detached", timeout: 5000 });
  });

  it("when the Worker goes away both pages show the banner, then recover without missing an event", async () => {
    const sim = system.simulator!;
    await system.stopWorker();
    await Promise.all([banner(alicePage).getByText(/Connection lost/).waitFor({ timeout: 10_000 }), banner(bobPage).getByText(/Connection lost/).waitFor({ timeout: 10_000 })]);
    await shot(alicePage, "08-banner-reconnecting");
    // Discord keeps going meanwhile; gateway-node holds the events until the Worker is back.
    sim.joinVoice(G, alice, roomId);
    sim.joinVoice(G, carol, DEMO_CHANNELS.lobby);
    sim.leaveVoice(G, bob);
    await system.startWorker();
    await Promise.all([alicePage.locator("#live[data-state=open]").waitFor({ timeout: 40_000 }), bobPage.locator("#live[data-state=open]").waitFor({ timeout: 40_000 })]);
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
    await shot(alicePage, "09-recovered");
  }, 90_000);

  it("after five failed attempts the Reconnect button appears, and it works", async () => {
    const sim = system.simulator!;
    await system.stopWorker();
    const reconnect = banner(alicePage).getByRole("button", { name: "Reconnect" });
    await reconnect.waitFor({ timeout: 45_000 });
    await expect(banner(alicePage).textContent()).resolves.toMatch(/after 5 attempts/);
    await expect(alicePage.locator("#live-text").textContent()).resolves.toBe("Offline");
    await shot(alicePage, "10-gave-up-reconnect-button");
    await shot(bobPage, "10-gave-up-phone");
    sim.leaveVoice(G, alice); // missed while offline
    await system.startWorker();
    await reconnect.click();
    await alicePage.locator("#live[data-state=open]").waitFor({ timeout: 15_000 });
    await voiceChip(alicePage, roomId, alice).waitFor({ state: "detached", timeout: 10_000 });
    await expect(banner(alicePage).isHidden()).resolves.toBe(true);
    const state = await pageState(alicePage);
    expect(state.presence).toEqual(truth(system));
    expectContiguous(state.seqs);
  }, 90_000);

  it("alice ends her table; it disappears from both pages", async () => {
    // bob's page gave up too: bring it back first
    const bobReconnect = banner(bobPage).getByRole("button", { name: "Reconnect" });
    if (await bobReconnect.isVisible()) await bobReconnect.click();
    await bobPage.locator("#live[data-state=open]").waitFor({ timeout: 15_000 });
    await expect(card(bobPage, roomId).getByRole("button", { name: "End table" }).count()).resolves.toBe(0); // not his
    const aliceCard = card(alicePage, roomId);
    await aliceCard.getByRole("button", { name: "End table" }).click();
    await shot(alicePage, "11-confirm-end");
    await aliceCard.getByRole("button", { name: "Yes, end it" }).click();
    await Promise.all([aliceCard.waitFor({ state: "detached", timeout: 10_000 }), card(bobPage, roomId).waitFor({ state: "detached", timeout: 10_000 })]);
    await shot(bobPage, "12-phone-after-end");
    expect(pageErrors).toEqual([]);
  });
});
