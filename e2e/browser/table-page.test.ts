/**
 * The table page's board video in Chromium, against the local run (simulator, gateway-node, the
 * Worker under wrangler dev with the lobby's development build): seated players see each other's
 * boards playing, a spectator watches without a camera tile, a player who leaves disappears, a
 * denied camera is explained, the voice move is shown, a player muted or deafened in Discord is
 * shown so, and a phone gets one column. Fake cameras
 * play a small y4m clip; any console warning or page error fails the run. Screenshots go to
 * test-artifacts/screenshots/ (30-36).
 *
 * Browser-side code is passed to page.evaluate as strings: this file is typechecked without the
 * DOM library.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { signHubRequest } from "@spell-coven/common";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { RoomsApi } from "../../client/src/rooms-api.ts";
import { startSystem } from "../../client/test/helpers.ts";
import { launchChromium, openTablePage, shot, writeFakeCameraClip } from "./browser.ts";

const { alice, bob, dave } = DEMO_USERS;
const PHONE = { width: 390, height: 844 };

let system: Awaited<ReturnType<typeof startSystem>>;
let browser: Browser;
let dir: string;
const contexts: BrowserContext[] = [];
const problems: string[] = [];

const openTable = (name: string, channelId: string, opts: { viewport?: { width: number; height: number }; denyCamera?: boolean } = {}): Promise<Page> =>
  openTablePage(browser, system.workerUrl, { name, channelId, ready: "boards", problems, contexts, ...opts });

const board = (page: Page, userId: string): Locator => page.locator(`[data-testid=board][data-user-id="${userId}"]`);

/** The board's `<video>` has a size and its frames keep coming (two samples apart). */
async function playing(page: Page, userId: string): Promise<{ width: number; frames: number }> {
  const video = board(page, userId).locator("video");
  await video.waitFor({ timeout: 25_000 });
  type VideoElement = { videoWidth: number; getVideoPlaybackQuality(): { totalVideoFrames: number } };
  const sample = () =>
    video.evaluate((el) => {
      const v = el as unknown as VideoElement;
      return { width: v.videoWidth, frames: v.getVideoPlaybackQuality().totalVideoFrames };
    });
  const deadline = Date.now() + 25_000;
  let first = await sample();
  while (first.width === 0 || first.frames < 3) {
    if (Date.now() > deadline) throw new Error(`${userId}'s board never played: ${JSON.stringify(first)}`);
    await page.waitForTimeout(250);
    first = await sample();
  }
  await page.waitForTimeout(800);
  const later = await sample();
  expect(later.frames, `frames of ${userId}'s board keep coming`).toBeGreaterThan(first.frames);
  return later;
}

/** The codec the board's quality indicator names (it fills in once stats arrive). */
const codecOf = (page: Page, userId: string) => board(page, userId).getByTestId("quality").getAttribute("data-codec");

/** What rtc-node posts while its bot hears someone at the table (signed like every sidecar post). */
async function speaking(channelId: string, userId: string, on: boolean): Promise<void> {
  const body = JSON.stringify({ signals: [{ guildId: DEMO_GUILD_ID, signal: "voice.speaking", payload: { channelId, userId, speaking: on } }] });
  const res = await fetch(`${system.workerUrl}/api/internal/signals`, {
    method: "POST",
    body,
    headers: { "Content-Type": "application/json", ...(await signHubRequest(system.vars.HUB_SECRET!, body)) },
  });
  expect(res.status).toBe(200);
}

async function table(owner: string, players: string[]): Promise<string> {
  const api = (u: string) => new RoomsApi({ baseUrl: system.workerUrl, getToken: () => system.simulator!.mintToken(u) });
  const room = await api(owner).createRoom({ name: `Boards ${Math.random().toString(36).slice(2, 6)}` });
  for (const p of players) await api(p).joinRoom(room.channelId);
  return room.channelId;
}

describe("the table page's board video", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "table-page-"));
    const clip = join(dir, "board.y4m");
    writeFakeCameraClip(clip);
    system = await startSystem();
    browser = await launchChromium({ fakeCamera: clip });
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await system?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("two players see each other's boards (VP8), the voice move, who speaks and who is muted; a spectator watches without a camera; a player who leaves disappears", async () => {
    const channelId = await table(alice, [bob]);
    const a = await openTable("alice", channelId);
    const b = await openTable("bob", channelId);
    expect((await playing(a, bob)).width).toBeGreaterThan(0);
    expect((await playing(b, alice)).width).toBeGreaterThan(0);
    await expect.poll(() => codecOf(a, bob), { timeout: 15_000 }).toBe("video/VP8");
    await expect(board(a, bob).getByTestId("quality").textContent()).resolves.toMatch(/^VP8 · \d+×\d+/);
    await a.getByTestId("own-camera").locator("video").waitFor();
    await expect(a.getByTestId("camera-picker").locator("option").count()).resolves.toBeGreaterThan(0);

    // Not in voice: the page says how to get there, with the Discord link; joining any voice channel brings her over.
    const status = a.getByTestId("voice-status");
    await status.and(a.locator("[data-status=join-voice]")).waitFor({ timeout: 10_000 });
    expect(await a.getByTestId("join-voice").getAttribute("href")).toContain(`/channels/${DEMO_GUILD_ID}/${channelId}`);
    await shot(a, "30-table-boards-two-players");
    system.simulator!.joinVoice(DEMO_GUILD_ID, alice, DEMO_CHANNELS.lobby);
    await a.locator("[data-testid=voice-status][data-status=in-voice], [data-testid=voice-status][data-status=moved]").waitFor({ timeout: 10_000 });
    await b.locator(`[data-testid=board][data-user-id="${alice}"] [data-testid=in-voice]`, { hasText: "In voice" }).waitFor({ timeout: 10_000 });
    // The table bot hears alice: her board on bob's page says so, and stops saying it when she stops.
    await speaking(channelId, alice, true);
    await board(b, alice).and(b.locator(".tile-speaking")).getByTestId("in-voice").filter({ hasText: "Speaking" }).waitFor({ timeout: 10_000 });
    await speaking(channelId, alice, false);
    await b.locator(".tile-speaking").waitFor({ state: "detached", timeout: 10_000 });

    // alice mutes herself in Discord: her board on bob's page says so, and so does her chip on the
    // table; a moderator deafens her (server deafen, Discord's member PATCH); then both are undone.
    const mute = board(b, alice).getByTestId("mute");
    system.simulator!.setVoiceFlags(DEMO_GUILD_ID, alice, { selfMute: true });
    await mute.and(b.locator("[data-state=muted]")).filter({ hasText: "Muted" }).waitFor({ timeout: 10_000 });
    await b.locator(`[data-testid=room] .chip[data-user-id="${alice}"] [data-testid=chip-mute][data-state=muted]`).waitFor({ timeout: 10_000 });
    expect(await mute.getAttribute("title")).toBe("Muted (cannot be heard) in Discord");
    // Her own tile tells her too: that is why nobody hears her.
    await a.getByTestId("own-camera").getByTestId("mute").filter({ hasText: "Muted" }).waitFor({ timeout: 10_000 });
    await shot(b, "36-table-board-muted");
    system.simulator!.setServerVoiceFlags(DEMO_GUILD_ID, alice, { deaf: true });
    await mute.and(b.locator("[data-state=deafened]")).filter({ hasText: "Deafened" }).waitFor({ timeout: 10_000 });
    expect(await mute.getAttribute("title")).toBe("Server-deafened (cannot hear or speak) by a moderator in Discord");
    system.simulator!.setServerVoiceFlags(DEMO_GUILD_ID, alice, { deaf: false });
    system.simulator!.setVoiceFlags(DEMO_GUILD_ID, alice, { selfMute: false });
    await mute.waitFor({ state: "detached", timeout: 10_000 });
    await b.locator("[data-testid=chip-mute]").waitFor({ state: "detached", timeout: 10_000 });
    await a.getByTestId("own-camera").getByTestId("mute").waitFor({ state: "detached", timeout: 10_000 });
    await board(b, alice).getByTestId("in-voice").filter({ hasText: "In voice" }).waitFor();

    // Click a board to enlarge it; again to shrink it.
    await board(a, bob)
      .getByRole("button", { name: /Enlarge/ })
      .click();
    await board(a, bob).and(a.locator(".tile-large")).waitFor();
    await shot(a, "31-table-board-enlarged");
    await board(a, bob)
      .getByRole("button", { name: /Shrink/ })
      .click();
    await a.locator(".tile-large").waitFor({ state: "detached" });

    // carol is not seated at this public table: she watches both boards, with no camera of her own.
    const c = await openTable("carol", channelId);
    await playing(c, alice);
    await playing(c, bob);
    await expect(c.getByTestId("own-camera").count()).resolves.toBe(0);
    await expect(c.getByTestId("boards").getAttribute("data-role")).resolves.toBe("spectator");
    await a.getByTestId("watching").filter({ hasText: "1 watching" }).waitFor({ timeout: 10_000 });
    await shot(c, "32-table-spectator");

    // bob goes back to the lobby: the page leaves the call, and his board goes from the others' pages.
    await b.getByRole("link", { name: "← All tables" }).click();
    await board(a, bob).waitFor({ state: "detached", timeout: 10_000 });
    await board(c, bob).waitFor({ state: "detached", timeout: 10_000 });
    await a.getByTestId("no-boards").waitFor();
    await playing(c, alice);
    expect(problems).toEqual([]);
  }, 150_000);

  it("a denied camera is explained, and the player still sees the others; a phone gets one column; a second tab takes over", async () => {
    const channelId = await table(alice, [bob, dave]);
    const a = await openTable("alice", channelId);
    const d = await openTable("dave", channelId, { denyCamera: true });
    const problem = d.getByTestId("camera-problem");
    await problem.waitFor({ timeout: 10_000 });
    await expect(problem.textContent()).resolves.toMatch(/Camera permission was denied/);
    await playing(d, alice);
    // dave sends nothing: alice's page shows his tile without video, saying so.
    await board(a, dave).getByText("dave has no camera on").waitFor({ timeout: 10_000 });
    await shot(d, "33-table-camera-denied", true);

    const b = await openTable("bob", channelId, { viewport: PHONE });
    await playing(b, alice);
    const boxes = await Promise.all([board(b, alice).boundingBox(), board(b, dave).boundingBox(), b.getByTestId("own-camera").boundingBox()]);
    // One column: every tile starts at the same x, one below the other, and fits the screen.
    for (const box of boxes) {
      expect(box).not.toBeNull();
      expect(box!.x).toBeCloseTo(boxes[0]!.x, 0);
      expect(box!.width).toBeLessThanOrEqual(PHONE.width);
    }
    expect(boxes[1]!.y).toBeGreaterThan(boxes[0]!.y + boxes[0]!.height - 1);
    // Tap to enlarge works on the phone too.
    await board(b, alice)
      .getByRole("button", { name: /Enlarge/ })
      .click();
    await board(b, alice).and(b.locator(".tile-large")).waitFor();
    await shot(b, "34-phone-table-boards", true);

    // alice opens the table in a second tab: that one takes over, the first says why it left.
    const a2 = await openTable("alice", channelId);
    const left = a.locator("[data-testid=call-left][data-reason=elsewhere]");
    await left.waitFor({ timeout: 10_000 });
    await expect(left.textContent()).resolves.toMatch(/another tab or device/);
    await playing(a2, bob);
    await board(b, alice).waitFor();
    await shot(a, "35-table-opened-elsewhere");
    expect(problems).toEqual([]);
  }, 150_000);
});
