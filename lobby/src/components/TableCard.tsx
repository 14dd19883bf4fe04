import type { Room } from "@spell-coven/client";
import { discordChannelUrl } from "../config.ts";
import { useDirectory } from "../directory.ts";
import { initial } from "../format.ts";
import { useLobby } from "../lobby-context.ts";
import { tablePath } from "../route.ts";
import { ClosingCountdown } from "./Countdown.tsx";
import { Icon } from "./Icon.tsx";
import { Link } from "./Link.tsx";
import { MuteMark, useVoiceFlags } from "../table/MuteMark.tsx";
import { TableActions } from "./TableActions.tsx";

/**
 * One table: name, seats, who is in voice (live, with a mark for the muted or deafened), who is seated, and what the player can do. In
 * the list it is a card whose name links to the table's page; on that page it is the page.
 */
export function TableCard({ room, me, current, variant }: { room: Room; me: string | null; current: boolean; variant: "card" | "page" }) {
  const { config, client } = useLobby();
  const names = useDirectory();
  const flags = useVoiceFlags(client);
  const seated = me !== null && room.members.includes(me);
  const headingId = `room-${room.channelId}`;
  const you = (u: string) => names.userName(u) + (u === me ? " (you)" : "");
  const Heading = variant === "page" ? "h1" : "h3";
  const canOpenInDiscord = seated || !room.private;

  return (
    <article
      className={`room room-${variant}${current ? " room-current" : ""}${room.closingAt !== null ? " room-closing" : ""}`}
      aria-labelledby={headingId}
      data-channel-id={room.channelId}
      data-testid="room"
    >
      <header className="room-head">
        <Heading id={headingId}>{variant === "card" ? <Link to={tablePath(room.channelId)}>{room.name}</Link> : room.name}</Heading>
        {room.private && (
          <span className="badge" title="Only invited players can join">
            <Icon name="lock" />
            Private
          </span>
        )}
        <span className="seats">
          <span aria-hidden="true">
            {room.members.length}/{room.userLimit} seats
          </span>
          <span className="sr-only">
            {room.members.length} of {room.userLimit} seats taken
          </span>
        </span>
      </header>
      {room.closingAt !== null && (
        <p className="closing" role="note" data-testid="closing">
          <ClosingCountdown closesAt={room.closingAt} />
        </p>
      )}
      <div className="voice" data-testid="voice">
        <span className="label">In voice</span>
        {room.voice.length ? (
          <ul className="chips" aria-label={`In voice at ${room.name}`}>
            {room.voice.map((u) => (
              <li key={u} className={u === me ? "chip chip-me" : "chip"} data-user-id={u}>
                <span className="avatar" aria-hidden="true">
                  {initial(names.userName(u))}
                </span>
                {you(u)}
                <MuteMark flags={flags[u]} variant="chip" />
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted small">Nobody in voice yet</p>
        )}
      </div>
      {room.members.length > 0 && <p className="muted small seated">Seated: {room.members.map(you).join(", ")}</p>}
      <TableActions room={room} me={me} />
      {canOpenInDiscord && (
        <p className="small">
          <a
            className="discord-link"
            href={discordChannelUrl(config.discordWebUrl, room.guildId, room.channelId)}
            target="_blank"
            rel="noopener noreferrer"
            data-testid="open-in-discord"
          >
            <Icon name="external" /> Open in Discord
          </a>
          {variant === "page" && <span className="muted"> to join the table's voice channel.</span>}
        </p>
      )}
    </article>
  );
}
