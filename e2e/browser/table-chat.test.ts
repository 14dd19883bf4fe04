/**
 * The table chat on the table page in Chromium, against the local run (simulator, gateway-node,
 * the Worker under wrangler dev with the lobby's development build): two seated players write
 * from the site and see each other live with their names; a Discord user writes and reacts
 * through the simulator's control API (and edits and deletes); reactions from the site and from Discord show with counts;
 * typing shows on the other page and goes; a burst of sends is refused with a countdown, the text
 * stays in the composer and goes once retried; a message whose text Discord withheld shows the
 * honest line; a phone gets the same chat; a reload shows the history. Any React warning or page
 * error fails the run. Screenshots: test-artifacts/screenshots/30-chat-*.png.
 *
 * Browser-side code is passed as strings: this file is typechecked without the DOM library.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { signHubRequest, type ChatMessagePayload } from "@spell-coven/common";
import { DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { RoomsApi } from "../../client/src/rooms-api.ts";
import { startSystem } from "../../client/test/helpers.ts";
import { launchChromium, openTablePage, shot } from "./browser.ts";

const { alice, bob, dave } = DEMO_USERS;
const PHONE = { width: 390, height: 844 };

let system: Awaited<ReturnType<typeof startSystem>>;
let browser: Browser;
const contexts: BrowserContext[] = [];
const problems: string[] = [];

/** No camera: the chat is under test, not the boards (the page says the camera was refused and goes on). */
const openTable = (name: string, channelId: string, opts: { viewport?: { width: number; height: number } } = {}): Promise<Page> =>
  openTablePage(browser, system.workerUrl, { name, channelId, ready: "chat", problems, contexts, denyCamera: true, ...opts });

const api = (u: string) => new RoomsApi({ baseUrl: system.workerUrl, getToken: () => system.simulator!.mintToken(u) });

async function table(owner: string, players: string[]): Promise<string> {
  const room = await api(owner).createRoom({ name: `Chat ${Math.random().toString(36).slice(2, 6)}` });
  for (const p of players) await api(p).joinRoom(room.channelId);
  return room.channelId;
}

/** A simulator control action, as the control page calls it. */
async function control(action: string, args: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${system.simulator!.url}/control/${action}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(args),
  });
  const body = (await res.json()) as { ok?: boolean; result?: unknown };
  expect(res.status, `${action}: ${JSON.stringify(body)}`).toBe(200);
  return body.result;
}

/** The chat line holding `text` (a site or Discord message). */
const line = (page: Page, text: string): Locator => page.getByTestId("chat-line").filter({ hasText: text });

async function write(page: Page, text: string): Promise<void> {
  const input = page.getByTestId("chat-input");
  await input.fill(text);
  await input.press("Enter");
}

/** What gateway-node posts for a MESSAGE_CREATE when the bot lacks the MESSAGE_CONTENT intent (signed like every sidecar post). */
async function postWithheld(channelId: string, messageId: string): Promise<void> {
  const payload: ChatMessagePayload = {
    guildId: DEMO_GUILD_ID,
    channelId,
    messageId,
    author: { id: dave, username: "dave", displayName: null, avatar: null, bot: false },
    content: "",
    contentAvailable: false,
    timestamp: new Date().toISOString(),
    editedTimestamp: null,
    attachments: 2,
    replyTo: null,
    mentionsEveryone: false,
    nonce: null,
  };
  const body = JSON.stringify({ events: [{ id: `m:withheld:${messageId}`, guildId: DEMO_GUILD_ID, event: "message.created", payload }] });
  const res = await fetch(`${system.workerUrl}/api/internal/events`, {
    method: "POST",
    body,
    headers: { "Content-Type": "application/json", ...(await signHubRequest(system.vars.HUB_SECRET!, body)) },
  });
  expect(res.status, await res.text()).toBe(200);
}

describe("the table chat on the table page", () => {
  beforeAll(async () => {
    system = await startSystem();
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await system?.cleanup();
  });

  it("site and Discord messages live with names, reactions with counts, typing, a refused burst that counts down and is retried, withheld text said honestly", async () => {
    const channelId = await table(alice, [bob]);
    const a = await openTable("alice", channelId);
    const b = await openTable("bob", channelId, { viewport: PHONE });
    const c = await openTable("carol", channelId);
    await expect(a.getByTestId("chat-input").isEnabled()).resolves.toBe(true);

    // alice writes from the site: bob sees it live, with her name, marked as sent from Spell Coven.
    await write(a, "Hello from the site");
    const onBob = line(b, "Hello from the site");
    await onBob.waitFor({ timeout: 15_000 });
    await expect(onBob.getByTestId("chat-author").textContent()).resolves.toBe("alice");
    await expect(onBob.textContent()).resolves.toContain("via Spell Coven");
    // On her own page the echo became Discord's message (the nonce tied them): one line, delivered.
    await line(a, "Hello from the site").and(a.locator("[data-status=delivered][data-message-id]")).waitFor({ timeout: 15_000 });
    await expect(line(a, "Hello from the site").count()).resolves.toBe(1);
    await expect(a.getByTestId("chat-input").inputValue()).resolves.toBe("");

    // dave writes in Discord: both pages show it under his Discord name.
    const posted = (await control("postMessage", { channelId, userId: dave, content: "Hi from Discord" })) as { id: string };
    for (const p of [a, b]) await line(p, "Hi from Discord").waitFor({ timeout: 15_000 });
    await expect(line(a, "Hi from Discord").getByTestId("chat-author").textContent()).resolves.toMatch(/dave/i);
    await expect(line(a, "Hi from Discord").textContent()).resolves.not.toContain("via Spell Coven");

    // carol has no seat at this public table: she reads along; the composer says why she cannot write.
    await line(c, "Hi from Discord").waitFor({ timeout: 15_000 });
    await expect(c.getByTestId("chat-input").isDisabled()).resolves.toBe(true);
    await expect(c.getByTestId("chat-hint").textContent()).resolves.toBe("Take a seat to write in this table's chat.");
    await expect(c.getByTestId("add-reaction").count()).resolves.toBe(0);
    await c.context().close();

    // alice reacts from the site with the picker, dave from Discord: 👍 2 on both pages, alice's highlighted on hers.
    const daveLine = (p: Page) => p.locator(`[data-testid=chat-line][data-message-id="${posted.id}"]`);
    await daveLine(a).getByTestId("add-reaction").click();
    await daveLine(a).getByRole("button", { name: "React with 👍" }).click();
    const chip = (p: Page) => daveLine(p).locator("[data-testid=reaction][data-emoji='👍']");
    await chip(b).filter({ hasText: "1" }).waitFor({ timeout: 15_000 });
    await control("addReaction", { channelId, messageId: posted.id, userId: dave, emoji: "👍" });
    for (const p of [a, b]) await chip(p).locator(".reaction-count", { hasText: /^2$/ }).waitFor({ timeout: 15_000 });
    await expect(chip(a).getAttribute("aria-pressed")).resolves.toBe("true");
    await expect(chip(b).getAttribute("aria-pressed")).resolves.toBe("false");
    await expect(chip(a).getAttribute("aria-label")).resolves.toBe("👍: 2 reactions, including yours");

    // Keyboard only: bob reaches the add-reaction button of alice's message, opens the picker (focus moves into it) and reacts.
    // The hub allows one site reaction per table per second: alice's 👍 was just now.
    await b.waitForTimeout(1_100);
    const aliceLine = line(b, "Hello from the site");
    await aliceLine.getByTestId("add-reaction").focus();
    await b.keyboard.press("Enter");
    await expect(b.evaluate(`document.activeElement?.getAttribute("aria-label")`)).resolves.toBe("React with 👍");
    await b.keyboard.press("Tab");
    await b.keyboard.press("Enter"); // ❤️
    await line(a, "Hello from the site").locator("[data-testid=reaction][data-emoji='❤️']", { hasText: "1" }).waitFor({ timeout: 15_000 });
    await expect(aliceLine.locator("[data-testid=reaction][data-emoji='❤️']").getAttribute("aria-pressed")).resolves.toBe("true");

    // bob types: alice's page says so, and stops saying it (Discord's 10 s); bob's never shows himself.
    await b.getByTestId("chat-input").pressSequentially("gg wp", { delay: 30 });
    await a.getByTestId("typing").filter({ hasText: "bob is typing…" }).waitFor({ timeout: 10_000 });
    await expect(b.getByTestId("typing").textContent()).resolves.toBe("");
    await shot(a, "30-chat-desktop", true);
    await shot(b, "30-chat-phone", true);
    await a.emulateMedia({ colorScheme: "light" });
    await shot(a, "30-chat-desktop-light", true);
    await a.emulateMedia({ colorScheme: "dark" });
    await a.getByTestId("typing").filter({ hasText: /^$/ }).waitFor({ timeout: 20_000 });
    await b.getByTestId("chat-input").fill("");

    // A Discord message whose text the bot may not read (no MESSAGE_CONTENT intent): said honestly, with its files.
    await postWithheld(channelId, String(BigInt(posted.id) + 1000n));
    for (const p of [a, b]) {
      const withheld = p.getByTestId("chat-withheld");
      await withheld.waitFor({ timeout: 15_000 });
      await expect(withheld.textContent()).resolves.toBe("Message text is not shared with this site.");
      await expect(withheld.locator("xpath=..").textContent()).resolves.toContain("2 files, open in Discord");
    }

    // dave edits his message in Discord: the new text, marked edited, on both pages; its reactions stay.
    await control("editMessage", { channelId, messageId: posted.id, content: "Hi from Discord, edited" });
    for (const p of [a, b]) {
      await line(p, "Hi from Discord, edited").filter({ hasText: "(edited)" }).waitFor({ timeout: 15_000 });
      await chip(p).locator(".reaction-count", { hasText: /^2$/ }).waitFor();
    }

    // A burst: the hub allows 5 sends per 10 s per player; the rest are refused with the time to wait, counted down.
    for (let i = 1; i <= 7; i++) await write(a, `burst ${i}`);
    const refusal = a.getByTestId("chat-refusal");
    await refusal.and(a.locator("[data-code=RATE_LIMITED]")).waitFor({ timeout: 15_000 });
    await expect(refusal.textContent()).resolves.toMatch(
      /Your message was not sent: you are sending faster than this table's chat allows\. You can try again in 0:\d\d\./,
    );
    await shot(a, "30-chat-refused");
    const first = await refusal.getByTestId("retry-at").textContent();
    await a.waitForFunction(
      `(() => { const t = document.querySelector("[data-testid=chat-refusal] [data-testid=retry-at]")?.textContent ?? ""; return t !== ${JSON.stringify(first)}; })()`,
      undefined,
      { timeout: 5_000 },
    );
    // Nothing is lost: the refused text is back in the composer.
    const kept = await a.getByTestId("chat-input").inputValue();
    expect(kept).toMatch(/^burst [67]$/);
    await refusal.getByTestId("retry-at").filter({ hasText: "You can try again now." }).waitFor({ timeout: 15_000 });
    await a.getByTestId("chat-input").press("Enter");
    await line(b, kept).waitFor({ timeout: 15_000 });
    await expect(line(b, kept).count()).resolves.toBe(1);

    // dave deletes his message in Discord: it goes from both pages.
    await control("deleteMessage", { channelId, messageId: posted.id });
    for (const p of [a, b]) await daveLine(p).waitFor({ state: "detached", timeout: 15_000 });
    expect(problems).toEqual([]);
  }, 150_000);

  it("offline, a send fails and says so with Retry; back online, Retry sends it once (the same command id)", async () => {
    // (A send into a socket that only looks open waits for its answer instead: NO_ANSWER after 20 s, or it goes once the network is back.)
    const channelId = await table(alice, [bob]);
    const a = await openTable("alice", channelId);
    const b = await openTable("bob", channelId);
    await a.context().setOffline(true);
    // Once the page knows its socket is gone (keep-alive unanswered), a send goes to the HTTP route, which cannot be reached.
    await a.locator("#live[data-state=reconnecting], #live[data-state=disconnected]").waitFor({ timeout: 60_000 });
    await write(a, "Sent while offline");
    const failed = line(a, "Sent while offline").and(a.locator("[data-status=failed]"));
    await failed.waitFor({ timeout: 15_000 });
    await expect(failed.getByTestId("chat-failed").textContent()).resolves.toContain(
      "Your message was not sent: Spell Coven can't be reached. Check your connection.",
    );
    await shot(a, "30-chat-failed-offline");
    await a.context().setOffline(false);
    await a.locator("#live[data-state=open]").waitFor({ timeout: 30_000 });
    await failed.getByRole("button", { name: "Retry" }).click();
    await line(b, "Sent while offline").waitFor({ timeout: 15_000 });
    await line(a, "Sent while offline").and(a.locator("[data-status=delivered]")).waitFor({ timeout: 15_000 });
    await expect(line(a, "Sent while offline").count()).resolves.toBe(1);
    // Discord has it once, written by the bot in alice's name.
    const inDiscord = (await (await fetch(`${system.simulator!.url}/control/messages?channelId=${channelId}`)).json()) as { content: string }[];
    expect(inDiscord.filter((m) => m.content === `<@${alice}>: Sent while offline`)).toHaveLength(1);
    expect(problems).toEqual([]);
  }, 120_000);

  it("a reload shows the history: earlier messages, with their reactions", async () => {
    const channelId = await table(alice, [bob]);
    const posted = (await control("postMessage", { channelId, userId: dave, content: "Before you came" })) as { id: string };
    await control("addReaction", { channelId, messageId: posted.id, userId: dave, emoji: "🔥" });
    const a = await openTable("alice", channelId);
    await line(a, "Before you came").waitFor({ timeout: 15_000 });
    await write(a, "Written before the reload");
    await line(a, "Written before the reload").and(a.locator("[data-status=delivered]")).waitFor({ timeout: 15_000 });
    await a.reload();
    await a.locator("#live[data-state=open]").waitFor({ timeout: 15_000 });
    await line(a, "Written before the reload").waitFor({ timeout: 15_000 });
    await expect(line(a, "Written before the reload").getByTestId("chat-author").textContent()).resolves.toBe("alice");
    await line(a, "Before you came").locator("[data-testid=reaction][data-emoji='🔥']", { hasText: "1" }).waitFor({ timeout: 15_000 });
    await shot(a, "30-chat-history");
    expect(problems).toEqual([]);
  }, 90_000);
});
