/**
 * One line of the table chat: who wrote it (a site player's name, marked as sent from Spell
 * Coven, or the Discord name), when, "edited", the text (or the honest line when Discord withheld
 * it), attachments as a count with a link to Discord, the reaction chips and a quick-reaction
 * picker. The player's own send not in Discord yet looks pending; a failed one says why, with Retry.
 */
import { memo, useEffect, useRef, useState } from "react";
import type { ChatLine, TableChat } from "@spell-coven/client";
import { useDirectory } from "../directory.ts";
import { authorName, chatTime, commandProblem, filesLine, QUICK_REACTIONS, reactionLabel, WITHHELD_TEXT } from "./chat-messages.ts";

/** Memoized: a line re-renders only when it changed (TableChat keeps unchanged lines the same object). */
export const ChatMessage = memo(function ChatMessage({
  line,
  chat,
  canReact,
  discordUrl,
}: {
  line: ChatLine;
  chat: TableChat;
  canReact: boolean;
  discordUrl: string;
}) {
  const names = useDirectory();
  const name = authorName(line, names);
  const cmd = line.command;
  const status = cmd ? (cmd.status === "failed" ? "failed" : cmd.status === "sent" ? "sent" : "pending") : "delivered";
  return (
    <li
      className={`chat-line${line.mine ? " chat-mine" : ""}${status === "pending" ? " chat-pending" : ""}${status === "failed" ? " chat-failed" : ""}`}
      data-testid="chat-line"
      data-message-id={line.messageId ?? undefined}
      data-status={status}
    >
      <p className="chat-meta">
        <strong className="chat-author" data-testid="chat-author">
          {name}
        </strong>
        {line.sentBy && <span className="chat-via">via Spell Coven</span>}
        <time className="muted small" dateTime={new Date(line.at).toISOString()}>
          {chatTime(line.at)}
        </time>
        {line.edited && <span className="muted small">(edited)</span>}
        {status === "pending" && <span className="muted small">Sending…</span>}
      </p>
      {line.contentAvailable ? (
        line.content && <p className="chat-text">{line.content}</p>
      ) : (
        <p className="chat-text chat-withheld muted" data-testid="chat-withheld">
          {WITHHELD_TEXT}
        </p>
      )}
      {line.attachments > 0 && (
        <p className="small">
          {filesLine(line.attachments)},{" "}
          <a href={discordUrl} target="_blank" rel="noopener noreferrer">
            open in Discord
          </a>
        </p>
      )}
      {cmd && status === "failed" && (
        <div className="chat-problem" data-testid="chat-failed">
          <p className="error small">{commandProblem(cmd)}</p>
          <button type="button" className="btn btn-small" onClick={() => chat.retry(cmd.commandId)}>
            Retry
          </button>
          <button type="button" className="btn btn-quiet btn-small" onClick={() => chat.dismiss(cmd.commandId)}>
            Discard
          </button>
        </div>
      )}
      {line.messageId && (line.reactions.length > 0 || canReact) && <Reactions line={line} messageId={line.messageId} chat={chat} canReact={canReact} />}
    </li>
  );
});

function Reactions({ line, messageId, chat, canReact }: { line: ChatLine; messageId: string; chat: TableChat; canReact: boolean }) {
  const [picking, setPicking] = useState(false);
  const picker = useRef<HTMLFieldSetElement>(null);
  const addButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (picking) picker.current?.querySelector("button")?.focus();
  }, [picking]);
  const react = (emoji: string) => {
    chat.react(messageId, emoji);
    setPicking(false);
  };
  return (
    <div className={`reactions${line.reactions.length === 0 ? " reactions-empty" : ""}`}>
      {line.reactions.length > 0 && (
        <ul className="reaction-chips" aria-label="Reactions">
          {line.reactions.map((r) => (
            <li key={r.emoji}>
              <button
                type="button"
                className={`reaction${r.mine ? " reaction-mine" : ""}`}
                data-testid="reaction"
                data-emoji={r.emoji}
                aria-pressed={r.mine}
                aria-label={reactionLabel(r.emoji, r.count, r.mine)}
                disabled={!canReact && !r.mine}
                onClick={() => !r.mine && canReact && chat.react(messageId, r.emoji)}
              >
                <span aria-hidden="true">{r.emoji}</span> <span className="reaction-count">{r.count}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {canReact && (
        <button
          type="button"
          className="reaction reaction-add"
          aria-expanded={picking}
          aria-label="Add a reaction"
          ref={addButton}
          data-testid="add-reaction"
          onClick={() => setPicking((p) => !p)}
        >
          <span aria-hidden="true">☺+</span>
        </button>
      )}
      {picking && (
        <fieldset
          className="reaction-picker"
          ref={picker}
          onKeyDown={(e) => {
            if (e.key !== "Escape") return;
            setPicking(false);
            addButton.current?.focus();
          }}
        >
          <legend className="sr-only">Quick reactions</legend>
          {QUICK_REACTIONS.map((emoji) => (
            <button key={emoji} type="button" className="reaction" aria-label={`React with ${emoji}`} onClick={() => react(emoji)}>
              {emoji}
            </button>
          ))}
        </fieldset>
      )}
    </div>
  );
}
