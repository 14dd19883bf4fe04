/**
 * The room-closing warning in a real browser: a table nobody is in voice at gets `room.closing`
 * with a countdown, a voice join cancels it, and when the countdown runs out the table goes.
 * The Worker runs with short idle settings (`startLocalSystem({ workerVars })`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { startSystem } from "../../client/test/helpers.ts";
import { launchChromium, playerContext, shot, watchConsole } from "./browser.ts";

const IDLE_SECONDS = 2;
const WARNING_SECONDS = 8;

let system: Awaited<ReturnType<typeof startSystem>>;
let browser: Browser;
let page: Page;
const problems: string[] = [];

describe("the room-closing warning", () => {
  beforeAll(async () => {
    // wrangler dev builds the lobby itself (wrangler.toml [build]) before it serves.
    system = await startSystem({ workerVars: { ROOM_IDLE_SECONDS: String(IDLE_SECONDS), ROOM_CLOSING_WARNING_SECONDS: String(WARNING_SECONDS) } });
    browser = await launchChromium();
    const context = await playerContext(browser, system.workerUrl, { viewport: { width: 1100, height: 760 } });
    page = await context.newPage();
    watchConsole(page, problems, "alice");
    await page.goto(`${system.workerUrl}/`);
    await page.getByRole("button", { name: "Sign in as alice" }).click();
    await page.locator("#live[data-state=open]").waitFor({ timeout: 15_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await system?.cleanup();
  });

  it("warns with a countdown, a voice join cancels it, and the table goes when it runs out", async () => {
    const sim = system.simulator!;
    await page.getByLabel("Table name").fill("Quiet table");
    await page.getByRole("button", { name: "Create table" }).click();
    const room = page.locator("[data-testid=room]", { hasText: "Quiet table" });
    await room.waitFor();
    const channelId = (await room.getAttribute("data-channel-id"))!;

    const warning = page.getByTestId("closing-warning");
    await warning.waitFor({ timeout: (IDLE_SECONDS + 10) * 1000 });
    await expect(room.getByTestId("closing").textContent()).resolves.toMatch(/Closing in 0:0\d/);
    await shot(page, "20-room-closing-warning");

    sim.joinVoice(DEMO_GUILD_ID, DEMO_USERS.alice, channelId);
    await warning.waitFor({ state: "detached", timeout: 5000 });
    await room.getByTestId("closing").waitFor({ state: "detached" });

    sim.leaveVoice(DEMO_GUILD_ID, DEMO_USERS.alice);
    await warning.waitFor({ timeout: (IDLE_SECONDS + 10) * 1000 });
    await room.waitFor({ state: "detached", timeout: (WARNING_SECONDS + 10) * 1000 });
    // she was on its page: it says the table is gone, and why
    await page.getByTestId("table-gone").waitFor();
    await expect(page.getByTestId("table-ended").textContent()).resolves.toMatch(/Quiet table has ended. It closed because nobody was in its voice channel/);
    await shot(page, "21-table-closed-idle");
    expect(problems).toEqual([]);
  }, 60_000);
});
