/**
 * The rooms list: one card per room, rebuilt only when what it shows changed (so focus stays on
 * the buttons of the other cards while voice events stream in).
 */
import type { Room } from "../src/index.ts";
import { countdown, duration, h, icon } from "./dom.ts";

export interface CardUi {
  /** The invite link being shown, if any. */
  invite?: { url: string; expiresAt: number } | undefined;
  confirmEnd?: boolean;
  busy?: boolean;
  copied?: boolean;
}

export interface CardContext {
  me: string | null;
  currentRoom: string | null;
  name: (userId: string) => string;
  ui: CardUi;
  onJoin(room: Room): void;
  onInvite(room: Room): void;
  onCopy(room: Room, input: HTMLInputElement): void;
  onEnd(room: Room): void;
  onConfirmEnd(room: Room, confirm: boolean): void;
}

export class RoomListView {
  readonly #cards = new Map<string, { el: HTMLElement; sig: string }>();

  constructor(private readonly container: HTMLElement) {}

  render(rooms: readonly Room[] | null, ctx: (room: Room) => CardContext): void {
    if (rooms === null) {
      this.#cards.clear();
      this.container.replaceChildren(h("p", { class: "muted empty" }, "Loading tables…"));
      return;
    }
    if (rooms.length === 0) {
      this.#cards.clear();
      this.container.replaceChildren(h("p", { class: "muted empty", attrs: { "data-testid": "no-rooms" } }, "No tables yet. Start one and invite your playgroup."));
      return;
    }
    const keep = new Set(rooms.map((r) => r.channelId));
    for (const id of [...this.#cards.keys()]) if (!keep.has(id)) this.#cards.delete(id);
    const els: HTMLElement[] = [];
    for (const room of rooms) {
      const c = ctx(room);
      const sig = JSON.stringify([room, c.me, c.currentRoom, c.ui, room.voice.map(c.name), room.members.map(c.name)]);
      let card = this.#cards.get(room.channelId);
      if (!card || card.sig !== sig) {
        const el = roomCard(room, c);
        card?.el.replaceWith(el);
        card = { el, sig };
        this.#cards.set(room.channelId, card);
      }
      els.push(card.el);
    }
    // Put cards in order, moving only what is out of place.
    const current = [...this.container.children];
    if (current.length !== els.length || els.some((el, i) => current[i] !== el)) this.container.replaceChildren(...els);
  }
}

function roomCard(room: Room, c: CardContext): HTMLElement {
  const mine = c.me !== null && room.creatorId === c.me;
  const seated = c.me !== null && room.members.includes(c.me);
  const full = room.members.length >= room.userLimit;
  const headingId = `room-${room.channelId}`;

  const voice = room.voice.length
    ? h(
        "ul",
        { class: "chips", attrs: { "aria-label": `In voice at ${room.name}` } },
        ...room.voice.map((u) => h("li", { class: u === c.me ? "chip chip-me" : "chip", attrs: { "data-user-id": u } }, h("span", { class: "avatar", attrs: { "aria-hidden": "true" } }, initial(c.name(u))), c.name(u) + (u === c.me ? " (you)" : ""))),
      )
    : h("p", { class: "muted small" }, "Nobody in voice yet");

  const actions: (HTMLElement | null)[] = [];
  if (!seated) {
    if (room.private) actions.push(h("span", { class: "tag" }, "Invite only"));
    else if (full) actions.push(h("span", { class: "tag" }, "Full"));
    else actions.push(h("button", { class: "btn btn-primary", attrs: { type: "button", disabled: c.ui.busy, "data-action": "join" }, on: { click: () => c.onJoin(room) } }, "Join table"));
  } else {
    actions.push(h("span", { class: "tag tag-ok" }, "You're seated"));
  }
  if (seated || !room.private) {
    actions.push(h("button", { class: "btn", attrs: { type: "button", disabled: c.ui.busy, "data-action": "invite" }, on: { click: () => c.onInvite(room) } }, "Invite"));
  }
  if (mine) {
    if (c.ui.confirmEnd) {
      actions.push(
        h("button", { class: "btn btn-danger", attrs: { type: "button", disabled: c.ui.busy, "data-action": "confirm-end" }, on: { click: () => c.onEnd(room) } }, "Yes, end it"),
        h("button", { class: "btn btn-quiet", attrs: { type: "button", "data-action": "cancel-end" }, on: { click: () => c.onConfirmEnd(room, false) } }, "Keep it"),
      );
    } else {
      actions.push(h("button", { class: "btn btn-quiet", attrs: { type: "button", "data-action": "end" }, on: { click: () => c.onConfirmEnd(room, true) } }, "End table"));
    }
  }

  let invite: HTMLElement | null = null;
  if (c.ui.invite) {
    const inputId = `invite-${room.channelId}`;
    const input = h("input", { class: "invite-url", attrs: { id: inputId, type: "text", readonly: true, value: c.ui.invite.url, "data-testid": "invite-url" }, on: { focus: (e) => (e.target as HTMLInputElement).select() } });
    invite = h(
      "div",
      { class: "invite" },
      h("label", { attrs: { for: inputId } }, "Invite link"),
      h("div", { class: "invite-row" }, input, h("button", { class: "btn", attrs: { type: "button", "data-action": "copy" }, on: { click: () => c.onCopy(room, input) } }, c.ui.copied ? "Copied!" : "Copy link")),
      h("p", { class: "muted small" }, `Anyone with this link can join during the next ${duration(c.ui.invite.expiresAt - Date.now())}.`),
    );
  }

  const closing =
    room.closingAt !== null
      ? h("p", { class: "closing", attrs: { role: "note", "data-closes-at": room.closingAt, "data-testid": "closing" } }, closingText(room.closingAt))
      : null;

  return h(
    "article",
    { class: `room${room.channelId === c.currentRoom ? " room-current" : ""}${room.closingAt !== null ? " room-closing" : ""}`, attrs: { "aria-labelledby": headingId, "data-channel-id": room.channelId, "data-testid": "room" } },
    h(
      "header",
      { class: "room-head" },
      h("h3", { attrs: { id: headingId } }, room.name),
      room.private ? h("span", { class: "badge", attrs: { title: "Only invited players can join" } }, icon("lock"), "Private") : null,
      h("span", { class: "seats", attrs: { "aria-label": `${room.members.length} of ${room.userLimit} seats taken` } }, `${room.members.length}/${room.userLimit} seats`),
    ),
    closing,
    h("div", { class: "voice", attrs: { "data-testid": "voice" } }, h("span", { class: "label" }, "In voice"), voice),
    room.members.length ? h("p", { class: "muted small seated" }, "Seated: ", room.members.map((u) => c.name(u) + (u === c.me ? " (you)" : "")).join(", ")) : null,
    h("div", { class: "actions" }, ...actions),
    invite,
  );
}

export function closingText(closesAt: number): string {
  return `Closing in ${countdown(closesAt - Date.now())}: nobody is in voice. Join its voice channel to keep it.`;
}

function initial(name: string): string {
  return (name.trim()[0] ?? "?").toUpperCase();
}
