import { useState } from "react";
import type { Room } from "@spell-coven/client";
import { useSpellCoven } from "@spell-coven/client/react";
import { useFeedback } from "../feedback.tsx";
import { duration } from "../format.ts";
import { useLobby } from "../lobby-context.ts";
import { navigate, tablePath } from "../route.ts";

/** Who may invite: anyone to a public table; to a private one only its players (the API's rule). */
export function canInvite(room: Room, me: string | null): boolean {
  return !room.private || (me !== null && (room.creatorId === me || room.members.includes(me)));
}

/** The invite link the page shows: the API's link, made sure to name the table (the token is opaque). */
export function inviteLink(apiUrl: string, channelId: string, token: string, origin: string): string {
  let u: URL;
  try {
    u = new URL(apiUrl, origin);
  } catch {
    u = new URL("/", origin);
  }
  if (!u.searchParams.get("invite")) u.searchParams.set("invite", token);
  if (!u.searchParams.get("room")) u.searchParams.set("room", channelId);
  return u.toString();
}

/** Join / leave / invite / end for one table, with the invite link and the end confirmation. */
export function TableActions({ room, me }: { room: Room; me: string | null }) {
  const { client, endingByMe } = useLobby();
  const { rooms } = useSpellCoven(client);
  const feedback = useFeedback();
  const [busy, setBusy] = useState(false);
  const [confirmEnd, setConfirmEnd] = useState(false);
  const [invite, setInvite] = useState<{ url: string; expiresAt: number } | null>(null);
  const [copied, setCopied] = useState(false);

  const seated = me !== null && room.members.includes(me);
  const mine = me !== null && room.creatorId === me;
  const full = room.members.length >= room.userLimit;
  const elsewhere = seated || me === null ? undefined : rooms?.find((r) => r.channelId !== room.channelId && r.members.includes(me));

  const act = async (key: string, run: () => Promise<void>) => {
    setBusy(true);
    try {
      await run();
      feedback.fixed(key);
    } catch (err) {
      feedback.failed(key, err);
    } finally {
      setBusy(false);
    }
  };

  const join = () =>
    act(`join:${room.channelId}`, async () => {
      const res = await client.joinRoom(room.channelId);
      // The server says which seat it gave up (one table at a time); its name is from before the join.
      const left = res.leftChannelId ? (rooms?.find((r) => r.channelId === res.leftChannelId)?.name ?? "your other table") : null;
      feedback.info(
        res.alreadyMember
          ? `You're already seated at ${res.room.name}.`
          : `You joined ${res.room.name}${left ? ` and gave up your seat at ${left}` : ""}. Hop into its voice channel in Discord.`,
      );
      navigate(tablePath(room.channelId));
    });
  const leave = () =>
    act(`leave:${room.channelId}`, async () => {
      await client.leaveRoom(room.channelId);
      feedback.info(`You left your seat at ${room.name}.`);
    });
  const makeInvite = () =>
    act(`invite:${room.channelId}`, async () => {
      const inv = await client.createInvite(room.channelId);
      setInvite({ url: inviteLink(inv.url, room.channelId, inv.token, location.origin), expiresAt: inv.expiresAt });
      setCopied(false);
    });
  const end = () =>
    act(`end:${room.channelId}`, async () => {
      endingByMe.add(room.channelId);
      try {
        await client.endRoom(room.channelId);
      } catch (err) {
        endingByMe.delete(room.channelId);
        setConfirmEnd(false);
        throw err;
      }
      feedback.info(`${room.name} has ended.`);
    });
  const copy = async (input: HTMLInputElement | null) => {
    if (!invite) return;
    try {
      await navigator.clipboard.writeText(invite.url);
      setCopied(true);
      feedback.info("Invite link copied.");
      setTimeout(() => setCopied(false), 2000);
    } catch {
      input?.focus();
      input?.select();
      feedback.info("Copy the selected link by hand.");
    }
  };

  const inputId = `invite-${room.channelId}`;
  return (
    <>
      <div className="actions">
        {seated ? (
          <>
            <span className="tag tag-ok">You're seated</span>
            <button type="button" className="btn" disabled={busy} data-action="leave" onClick={() => void leave()}>
              Leave seat
            </button>
          </>
        ) : room.private ? (
          <span className="tag">Invite only</span>
        ) : full ? (
          <span className="tag">Full</span>
        ) : (
          <button
            type="button"
            className="btn btn-primary"
            disabled={busy}
            data-action="join"
            title={elsewhere ? `Gives up your seat at ${elsewhere.name}` : undefined}
            onClick={() => void join()}
          >
            {elsewhere ? "Move to this table" : "Join table"}
          </button>
        )}
        {canInvite(room, me) && (
          <button type="button" className="btn" disabled={busy} data-action="invite" onClick={() => void makeInvite()}>
            Invite
          </button>
        )}
        {mine &&
          (confirmEnd ? (
            <>
              <button type="button" className="btn btn-danger" disabled={busy} data-action="confirm-end" onClick={() => void end()}>
                Yes, end it
              </button>
              <button type="button" className="btn btn-quiet" data-action="cancel-end" onClick={() => setConfirmEnd(false)}>
                Keep it
              </button>
            </>
          ) : (
            <button type="button" className="btn btn-quiet" data-action="end" onClick={() => setConfirmEnd(true)}>
              End table
            </button>
          ))}
      </div>
      {invite && (
        <div className="invite">
          <label htmlFor={inputId}>Invite link</label>
          <div className="invite-row">
            <input id={inputId} className="invite-url" type="text" readOnly value={invite.url} data-testid="invite-url" onFocus={(e) => e.target.select()} />
            <button
              type="button"
              className="btn"
              data-action="copy"
              onClick={(e) => void copy(e.currentTarget.previousElementSibling as HTMLInputElement | null)}
            >
              {copied ? "Copied!" : "Copy link"}
            </button>
          </div>
          <p className="muted small">Anyone with this link can join during the next {duration(invite.expiresAt - Date.now())}.</p>
        </div>
      )}
    </>
  );
}
