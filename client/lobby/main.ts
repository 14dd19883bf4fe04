/**
 * The lobby page (served by the Worker from worker/public): sign in, the guild's tables with who
 * is in voice (live), create / join / invite / end, the connection banner with a Reconnect
 * button, the closing warning and the voice dropout notice. Built on @spell-coven/client.
 */
import { SpellCovenClient, type ClientSnapshot, type DropoutInfo, type Room } from "../src/index.ts";
import { byId, copyText, h, icon } from "./dom.ts";
import { bannerFor, roomErrorText } from "./messages.ts";
import { RoomListView, closingText, type CardUi } from "./rooms-view.ts";
import { listSimUsers, loadSession, mintSimToken, peekJwt, resolveConfig, saveSession, type LobbyConfig, type Session, type SimUser } from "./session.ts";

const userNames = new Map<string, string>();
const channelNames = new Map<string, string>();
const cardUi = new Map<string, CardUi>();
let simUrl: string | null = null;
let config: LobbyConfig | null = null;
let session: Session | null = null;
let client: SpellCovenClient | null = null;
let everOpen = false;
let dropout: DropoutInfo | null = null;
const dismissedClosing = new Set<string>();
let pendingInvite = readInviteFromUrl();
const roomsView = new RoomListView(byId("rooms"));

// ---- start -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  byId("sign-out").addEventListener("click", signOut);
  byId("banner-action").addEventListener("click", onBannerAction);
  byId("token-form").addEventListener("submit", onTokenSubmit);
  byId("create-form").addEventListener("submit", onCreate);
  setInterval(tick, 1000);
  // Seats taken through the API have no event of their own: refresh the list now and then.
  setInterval(() => {
    if (client?.state === "open" && document.visibilityState === "visible") client.refreshRooms().catch(() => {});
  }, 30_000);

  config = await resolveConfig();
  simUrl = config.simUrl;
  session = loadSession();
  if (simUrl) void loadSimDirectory(simUrl);
  if (session) start(session);
  else showSignIn();
}

async function loadSimDirectory(url: string): Promise<void> {
  try {
    const res = await fetch(`${url}/control/state`);
    if (!res.ok) return;
    const state = (await res.json()) as { guilds?: { channels?: { id: string; name?: string }[] }[]; users?: { id: string; username: string }[] };
    for (const u of state.users ?? []) userNames.set(u.id, u.username);
    for (const g of state.guilds ?? []) for (const ch of g.channels ?? []) if (ch.name) channelNames.set(ch.id, ch.name);
    scheduleRender();
  } catch {
    // names are a nicety
  }
}

// ---- sign in -----------------------------------------------------------------------------------

async function showSignIn(message?: string): Promise<void> {
  byId("app").hidden = true;
  byId("who").hidden = true;
  byId("signin").hidden = false;
  showBanner(null);
  const intro = byId("signin-intro");
  intro.textContent = pendingInvite
    ? "You've been invited to a table. Sign in to take your seat."
    : "Pick who you are to see the tables and who is in voice.";
  setError("signin-error", message ?? null);
  const list = byId("signin-users");
  if (!simUrl) {
    list.replaceChildren();
    (byId("token-signin") as HTMLDetailsElement).open = true;
    return;
  }
  list.replaceChildren(h("p", { class: "muted" }, "Loading players…"));
  let users: SimUser[];
  try {
    users = await listSimUsers(simUrl);
  } catch (err) {
    list.replaceChildren(h("p", { class: "muted" }, `The local identity provider at ${simUrl} is not answering (${err instanceof Error ? err.message : String(err)}). Sign in with a token instead.`));
    (byId("token-signin") as HTMLDetailsElement).open = true;
    return;
  }
  for (const u of users) userNames.set(u.id, u.username);
  list.replaceChildren(
    ...users.map((u) =>
      h(
        "button",
        { class: "user-pick", attrs: { type: "button", "data-user-id": u.id }, on: { click: (e) => signInAs(u, e.currentTarget as HTMLButtonElement) } },
        h("span", { class: "avatar avatar-lg", attrs: { "aria-hidden": "true" } }, (u.username[0] ?? "?").toUpperCase()),
        h("span", null, `Sign in as ${u.username}`),
      ),
    ),
  );
}

async function signInAs(user: SimUser, button: HTMLButtonElement): Promise<void> {
  if (!simUrl) return;
  button.disabled = true;
  try {
    const token = await mintSimToken(simUrl, user.id);
    session = { token, simUserId: user.id, username: user.username };
    saveSession(session);
    start(session);
  } catch (err) {
    setError("signin-error", `Could not sign in: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    button.disabled = false;
  }
}

function onTokenSubmit(e: SubmitEvent): void {
  e.preventDefault();
  const token = (byId<HTMLTextAreaElement>("token-input").value || "").trim();
  if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) {
    setError("signin-error", "That does not look like a token (three parts separated by dots).");
    return;
  }
  const claims = peekJwt(token);
  session = { token, simUserId: null, username: claims.name };
  saveSession(session);
  start(session);
}

function signOut(): void {
  client?.close();
  client = null;
  session = null;
  everOpen = false;
  dropout = null;
  cardUi.clear();
  saveSession(null);
  renderNotices();
  void showSignIn();
}

/** The client's token source: the stored token, a fresh one from the simulator when asked. */
async function getToken({ refresh }: { refresh: boolean }): Promise<string> {
  if (!session) throw new Error("Not signed in.");
  const exp = peekJwt(session.token).exp;
  const stale = exp !== null && exp * 1000 < Date.now() + 30_000;
  if (refresh || stale) {
    if (!session.simUserId || !simUrl) {
      queueMicrotask(() => signOutWith("Your sign-in expired. Please sign in again."));
      throw new Error("The token expired and this page cannot renew it.");
    }
    session = { ...session, token: await mintSimToken(simUrl, session.simUserId) };
    saveSession(session);
  }
  return session.token;
}

function signOutWith(message: string): void {
  signOut();
  void showSignIn(message);
}

// ---- the signed-in page ------------------------------------------------------------------------

function start(s: Session): void {
  byId("signin").hidden = true;
  byId("app").hidden = false;
  byId("who").hidden = false;
  const claims = peekJwt(s.token);
  byId("me-name").textContent = s.username ?? claims.name ?? (claims.sub ? shortId(claims.sub) : "Player");

  client?.close();
  const c = new SpellCovenClient({
    url: location.origin,
    getToken,
    ...(config?.guildId ? { guildId: config.guildId } : {}),
    ...(config?.maxReconnectAttempts != null ? { maxReconnectAttempts: config.maxReconnectAttempts } : {}),
  });
  (globalThis as { __lobby?: unknown }).__lobby = { client: c, seqs };
  client = c;
  c.subscribe(scheduleRender);
  seqs.length = 0;
  c.on("event", (e) => {
    seqs.push(e.seq);
    if (seqs.length > 2000) seqs.splice(0, seqs.length - 2000);
  });
  c.on("state", (st) => {
    if (st.state === "open") {
      if (everOpen && lastState !== "open") toast("Back online. You're up to date.");
      everOpen = true;
    }
    lastState = st.state;
    renderBanner();
  });
  c.on("auth", () => {
    if (pendingInvite) void acceptInvite(pendingInvite);
  });
  c.on("dropout", (info) => {
    dropout = info;
    renderNotices();
  });
  c.on("rejoined", () => {
    dropout = null;
    renderNotices();
  });
  c.on("room.deleted", (p) => {
    if (dropout?.channelId === p.channelId) dropout = null;
    cardUi.delete(p.channelId);
    renderNotices();
  });
  c.on("room.closing.cancelled", (p) => dismissedClosing.delete(p.channelId));
  c.on("error", (err) => {
    if (err.kind === "rooms") toast(err.message, "error");
    else if (err.kind !== "gave_up" && err.kind !== "fatal_close") console.warn("spell-coven:", err.message, err.detail);
  });
  c.connect();
  scheduleRender();
}
let lastState: string | null = null;
/** The seqs this page processed (the last 2,000), for diagnostics and the browser tests. */
const seqs: number[] = [];

let renderQueued = false;
function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => {
    renderQueued = false;
    render();
  });
}

function render(): void {
  const c = client;
  if (!c) return;
  const snap = c.getSnapshot();
  // A player seated at a table (after a reload, say) is "in" it for the dropout notice.
  if (snap.currentRoom === null && snap.userId && snap.rooms) {
    const mine = [...snap.rooms].reverse().find((r) => r.members.includes(snap.userId!));
    if (mine) return c.setCurrentRoom(mine.channelId); // re-renders
  }
  renderLive(snap);
  renderBanner();
  roomsView.render(snap.rooms, (room) => cardContext(room, snap));
  byId("rooms-count").textContent = snap.rooms ? `${snap.rooms.length} open` : "";
  renderElsewhere(snap);
  renderNotices();
}

function renderLive(snap: ClientSnapshot): void {
  const live = byId("live");
  live.dataset.state = snap.state;
  byId("live-text").textContent = snap.state === "open" ? "Live" : snap.state === "disconnected" ? "Offline" : snap.state === "reconnecting" ? "Reconnecting" : "Connecting";
}

function renderBanner(): void {
  const c = client;
  showBanner(c ? bannerFor(c.connectionState, { everOpen, now: Date.now() }) : null);
}

function showBanner(view: ReturnType<typeof bannerFor>): void {
  const banner = byId("banner");
  const action = byId<HTMLButtonElement>("banner-action");
  if (!view) {
    banner.hidden = true;
    return;
  }
  banner.hidden = false;
  banner.dataset.tone = view.tone;
  const text = byId("banner-text");
  if (text.textContent !== view.text) text.textContent = view.text;
  action.hidden = view.action === null;
  action.dataset.action = view.action ?? "";
  action.textContent = view.action === "signin" ? "Sign in again" : "Reconnect";
}

function onBannerAction(): void {
  const action = byId("banner-action").dataset.action;
  if (action === "reconnect") client?.reconnect();
  else if (action === "signin") signOut();
}

function cardContext(room: Room, snap: ClientSnapshot) {
  const ui = cardUi.get(room.channelId) ?? {};
  return {
    me: snap.userId,
    currentRoom: snap.currentRoom,
    name: nameOf,
    ui,
    onJoin: (r: Room) => void joinRoom(r),
    onInvite: (r: Room) => void invite(r),
    onCopy: (r: Room, input: HTMLInputElement) => void copyInvite(r, input),
    onEnd: (r: Room) => void endRoom(r),
    onConfirmEnd: (r: Room, confirm: boolean) => setUi(r.channelId, { confirmEnd: confirm }),
  };
}

function renderElsewhere(snap: ClientSnapshot): void {
  const roomIds = new Set((snap.rooms ?? []).map((r) => r.channelId));
  const others = Object.entries(snap.presence).filter(([id, users]) => !roomIds.has(id) && users.length > 0);
  const box = byId("elsewhere");
  const sig = JSON.stringify([others, others.flatMap(([id, us]) => [channelNames.get(id), ...us.map(nameOf)])]);
  if (box.dataset.sig === sig) return;
  box.dataset.sig = sig;
  if (others.length === 0) {
    box.replaceChildren();
    return;
  }
  box.replaceChildren(
    h("h3", null, "Elsewhere in voice"),
    h(
      "ul",
      { class: "elsewhere-list" },
      ...others.map(([id, users]) =>
        h(
          "li",
          { attrs: { "data-channel-id": id } },
          h("span", { class: "channel" }, icon("speaker"), channelNames.get(id) ?? `Voice channel ${shortId(id)}`),
          h("span", { class: "muted" }, users.map((u) => nameOf(u) + (u === snap.userId ? " (you)" : "")).join(", ")),
        ),
      ),
    ),
  );
}

function renderNotices(): void {
  const box = byId("notices");
  const snap = client?.getSnapshot();
  const items: HTMLElement[] = [];
  if (dropout && snap) {
    const room = snap.rooms?.find((r) => r.channelId === dropout!.channelId);
    const movedTo = dropout.nowIn === null ? null : (snap.rooms?.find((r) => r.channelId === dropout!.nowIn)?.name ?? "another voice channel");
    items.push(
      h(
        "div",
        { class: "notice notice-warn", attrs: { "data-testid": "dropout" } },
        h("p", null, h("strong", null, "You dropped out of voice. "), `You ${movedTo ? `moved from the voice channel of ${room?.name ?? "your table"} to ${movedTo}` : `left the voice channel of ${room?.name ?? "your table"}`}. Rejoin it in Discord to keep playing.`),
        h("button", { class: "btn btn-quiet", attrs: { type: "button" }, on: { click: () => ((dropout = null), renderNotices()) } }, "Dismiss"),
      ),
    );
  }
  const current = snap?.currentRoom ? snap.rooms?.find((r) => r.channelId === snap.currentRoom) : undefined;
  if (current && current.closingAt !== null && !dismissedClosing.has(current.channelId)) {
    items.push(
      h(
        "div",
        { class: "notice notice-error", attrs: { "data-testid": "closing-warning" } },
        h("p", null, h("strong", null, `${current.name}: `), h("span", { attrs: { "data-closes-at": current.closingAt } }, closingText(current.closingAt))),
        h("button", { class: "btn btn-quiet", attrs: { type: "button" }, on: { click: () => (dismissedClosing.add(current.channelId), renderNotices()) } }, "Dismiss"),
      ),
    );
  }
  const sig = JSON.stringify([dropout, current?.closingAt, current?.name, [...dismissedClosing]]);
  if (box.dataset.sig === sig) return;
  box.dataset.sig = sig;
  box.replaceChildren(...items);
}

/** Every second: countdowns and the banner's "in N s". */
function tick(): void {
  for (const el of document.querySelectorAll<HTMLElement>("[data-closes-at]")) {
    const at = Number(el.dataset.closesAt);
    const text = closingText(at);
    if (el.textContent !== text) el.textContent = text;
  }
  if (client?.state === "reconnecting") renderBanner();
}

// ---- actions -----------------------------------------------------------------------------------

function setUi(channelId: string, patch: Partial<CardUi>): void {
  cardUi.set(channelId, { ...cardUi.get(channelId), ...patch });
  scheduleRender();
}

async function onCreate(e: SubmitEvent): Promise<void> {
  e.preventDefault();
  if (!client) return;
  const name = byId<HTMLInputElement>("room-name").value.trim();
  const seats = Number(byId<HTMLInputElement>("room-seats").value);
  const isPrivate = byId<HTMLInputElement>("room-private").checked;
  if (!Number.isInteger(seats) || seats < 1 || seats > 99) {
    setError("create-error", "Seats must be a whole number from 1 to 99.");
    return;
  }
  setError("create-error", null);
  const submit = byId<HTMLButtonElement>("create-submit");
  submit.disabled = true;
  submit.textContent = "Creating…";
  try {
    const room = await client.createRoom({ ...(name ? { name } : {}), userLimit: seats, private: isPrivate });
    byId<HTMLInputElement>("room-name").value = "";
    toast(`Table "${room.name}" is ready.${room.private ? " Invite your players with a link." : ""}`);
  } catch (err) {
    setError("create-error", roomErrorText(err));
  } finally {
    submit.disabled = false;
    submit.textContent = "Create table";
  }
}

async function joinRoom(room: Room, inviteToken?: string): Promise<void> {
  if (!client) return;
  setUi(room.channelId, { busy: true });
  try {
    const res = await client.joinRoom(room.channelId, inviteToken ? { invite: inviteToken } : {});
    toast(res.alreadyMember ? `You're already seated at ${res.room.name}.` : `You joined ${res.room.name}. Hop into its voice channel in Discord.`);
  } catch (err) {
    toast(roomErrorText(err), "error");
  } finally {
    setUi(room.channelId, { busy: false });
  }
}

async function acceptInvite(inv: { room: string | null; invite: string }): Promise<void> {
  pendingInvite = null;
  clearInviteFromUrl();
  if (!client) return;
  if (!inv.room) {
    toast("This invite link is incomplete (it names no table). Ask for a new one.", "error");
    return;
  }
  try {
    const res = await client.joinRoom(inv.room, { invite: inv.invite });
    toast(res.alreadyMember ? `You're already seated at ${res.room.name}.` : `You joined ${res.room.name} through an invite. Welcome!`);
    requestAnimationFrame(() => document.querySelector(`[data-channel-id="${CSS.escape(res.room.channelId)}"]`)?.scrollIntoView({ block: "nearest" }));
  } catch (err) {
    toast(roomErrorText(err), "error");
  }
}

async function invite(room: Room): Promise<void> {
  if (!client) return;
  setUi(room.channelId, { busy: true });
  try {
    const inv = await client.createInvite(room.channelId);
    setUi(room.channelId, { invite: { url: inviteLink(inv.url, room.channelId, inv.token), expiresAt: inv.expiresAt }, copied: false });
  } catch (err) {
    toast(roomErrorText(err), "error");
  } finally {
    setUi(room.channelId, { busy: false });
  }
}

/** The API's link, made sure to name the table (the token is opaque to the page). */
function inviteLink(apiUrl: string, channelId: string, token: string): string {
  let u: URL;
  try {
    u = new URL(apiUrl, location.origin);
  } catch {
    u = new URL("/", location.origin);
  }
  if (!u.searchParams.get("invite")) u.searchParams.set("invite", token);
  if (!u.searchParams.get("room")) u.searchParams.set("room", channelId);
  return u.toString();
}

async function copyInvite(room: Room, input: HTMLInputElement): Promise<void> {
  const ok = await copyText(input.value, input);
  if (ok) {
    setUi(room.channelId, { copied: true });
    toast("Invite link copied.");
    setTimeout(() => setUi(room.channelId, { copied: false }), 2000);
  } else {
    input.focus();
    input.select();
    toast("Copy the selected link by hand.", "error");
  }
}

async function endRoom(room: Room): Promise<void> {
  if (!client) return;
  setUi(room.channelId, { busy: true });
  try {
    await client.endRoom(room.channelId);
    cardUi.delete(room.channelId);
    toast(`${room.name} has ended.`);
  } catch (err) {
    setUi(room.channelId, { busy: false, confirmEnd: false });
    toast(roomErrorText(err), "error");
  }
}

// ---- bits --------------------------------------------------------------------------------------

function readInviteFromUrl(): { room: string | null; invite: string } | null {
  const p = new URLSearchParams(location.search);
  const invite = p.get("invite");
  if (!invite) return null;
  const room = p.get("room");
  return { invite, room: room && /^\d{1,20}$/.test(room) ? room : null };
}

function clearInviteFromUrl(): void {
  const u = new URL(location.href);
  u.searchParams.delete("invite");
  u.searchParams.delete("room");
  history.replaceState(null, "", u.pathname + u.search + u.hash);
}

function nameOf(userId: string): string {
  return userNames.get(userId) ?? `Player ${shortId(userId)}`;
}

function shortId(id: string): string {
  return `…${id.slice(-4)}`;
}

function setError(id: string, message: string | null): void {
  const el = byId(id);
  el.hidden = message === null;
  el.textContent = message ?? "";
}

let toastTimer: ReturnType<typeof setTimeout> | null = null;
function toast(message: string, tone: "info" | "error" = "info"): void {
  const el = byId("toast");
  el.textContent = message;
  el.dataset.tone = tone;
  el.hidden = false;
  if (toastTimer) clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), tone === "error" ? 8000 : 4000);
}

void main();
