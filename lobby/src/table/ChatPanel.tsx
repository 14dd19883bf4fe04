/**
 * The table's chat on its page (issue 16): the text chat of the table's Discord voice channel,
 * live, readable by everyone who may see the table and writable by its seated players, from
 * here or from Discord alike. New messages are announced politely; the list keeps to the bottom
 * while the player is there, and "Load older messages" brings the history back page by page.
 */
import { useLayoutEffect, useRef } from "react";
import type { ChatCommandState, Room, TableChatSnapshot } from "@spell-coven/client";
import { RetryCountdown } from "../components/Countdown.tsx";
import { discordChannelUrl } from "../config.ts";
import { useDirectory } from "../directory.ts";
import { useLobby } from "../lobby-context.ts";
import { ChatComposer } from "./ChatComposer.tsx";
import { ChatMessage } from "./ChatMessage.tsx";
import { typingLine } from "./chat-messages.ts";
import { useTableChat } from "./useTableChat.ts";

export function ChatPanel({ room, me }: { room: Room; me: string }) {
  const { client, config } = useLobby();
  const names = useDirectory();
  const seated = room.members.includes(me);
  // Who may read it, as the hub decides (ChatAudience): anyone for a public table; for a private
  // one its seat holders and whoever is in its voice channel.
  const canRead = !room.private || seated || room.voice.includes(me);
  const { chat, snap } = useTableChat(client, room.channelId, canRead);
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const lines = snap?.lines ?? [];
  const last = lines.at(-1)?.key;

  // Follow new messages while the player is at the bottom; leave them where they are when reading older ones.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `last` is the trigger (a new line at the end)
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [last]);

  const discordUrl = discordChannelUrl(config.discordWebUrl, room.guildId, room.channelId);
  if (!canRead)
    return (
      <section className="card chat" aria-label="Table chat" data-testid="chat">
        <h2>Table chat</h2>
        <p className="muted">This table's chat is for its players.</p>
      </section>
    );

  const typing = typingLine((snap?.typing ?? []).map((id) => nameOf(id, snap, names.userName)));
  return (
    <section className="card chat" aria-labelledby="chat-title" data-testid="chat">
      <header className="section-head">
        <h2 id="chat-title">Table chat</h2>
        <a className="muted small" href={discordUrl} target="_blank" rel="noopener noreferrer">
          Also in Discord
        </a>
      </header>
      <div
        className="chat-scroll"
        ref={scroller}
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        <History snap={snap} onLoad={() => void chat?.loadOlder()} />
        <ol className="chat-lines" role="log" aria-live="polite" aria-relevant="additions" aria-label="Messages" data-testid="chat-lines">
          {chat && lines.map((line) => <ChatMessage key={line.key} line={line} chat={chat} canReact={seated} discordUrl={discordUrl} />)}
        </ol>
        {snap?.history.status === "loaded" && lines.length === 0 && <p className="muted small">No messages yet. Say hello to the table.</p>}
      </div>
      <p className="chat-typing muted small" aria-live="polite" data-testid="typing">
        {typing}
      </p>
      <ChatComposer chat={chat} seated={seated} refusal={latestRefusal(snap)} />
    </section>
  );
}

function History({ snap, onLoad }: { snap: TableChatSnapshot | null; onLoad: () => void }) {
  const h = snap?.history;
  if (!h || h.status === "idle") return null;
  if (h.status === "loading") return <p className="muted small chat-history">Loading messages…</p>;
  if (h.status === "error")
    return (
      <div className="chat-history" data-testid="chat-history-error">
        <p className="small error">
          Could not load earlier messages: {h.error?.message} {h.error?.retryAt ? <RetryCountdown retryAt={h.error.retryAt} /> : null}
        </p>
        <button type="button" className="btn btn-small" onClick={onLoad}>
          Try again
        </button>
      </div>
    );
  if (!h.hasMore) return null;
  return (
    <div className="chat-history">
      <button type="button" className="btn btn-small" data-testid="load-older" onClick={onLoad}>
        Load older messages
      </button>
    </div>
  );
}

/** The most recent refused command (send or reaction) still shown. */
function latestRefusal(snap: TableChatSnapshot | null): ChatCommandState | null {
  let out: ChatCommandState | null = null;
  for (const c of Object.values(snap?.commands ?? {})) if (c.status === "refused") out = c;
  return out;
}

/** A typer's name: as their messages here name them, else the directory's. */
function nameOf(userId: string, snap: TableChatSnapshot | null, fallback: (id: string) => string): string {
  const line = snap?.lines.findLast((l) => !l.sentBy && l.author?.id === userId);
  return line?.author?.displayName ?? line?.author?.username ?? fallback(userId);
}
