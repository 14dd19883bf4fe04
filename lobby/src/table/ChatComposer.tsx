/**
 * Writing in the table's chat: Enter sends, Shift+Enter is a new line, a counter shows near the
 * limit, typing is announced (the chat sends it at most once per 8 s). A refused send puts its
 * text back here, says why and counts down to when trying again makes sense; sending the same
 * text again retries that command (same command id, so never a second message). Without a seat
 * the composer is disabled and says why.
 */
import { useEffect, useId, useRef, useState } from "react";
import type { ChatCommandState, TableChat } from "@spell-coven/client";
import { RetryCountdown } from "../components/Countdown.tsx";
import { charactersLeft, commandProblem, NO_SEAT_TEXT } from "./chat-messages.ts";

export function ChatComposer({ chat, seated, refusal }: { chat: TableChat | null; seated: boolean; refusal: ChatCommandState | null }) {
  const [text, setText] = useState("");
  /** The refused send whose text is in the box: sending it unchanged retries that command. */
  const [retryOf, setRetryOf] = useState<ChatCommandState | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  const { left, show } = charactersLeft(text);
  const over = left < 0;
  const empty = text.trim().length === 0;
  const disabled = !seated || chat === null;

  // A refused send: its text comes back (nothing is lost), unless the player already wrote something else.
  const restored = useRef(new Set<string>());
  const current = useRef(text);
  current.current = text;
  useEffect(() => {
    if (refusal?.command !== "sendMessage" || refusal.text === null || restored.current.has(refusal.commandId)) return;
    restored.current.add(refusal.commandId);
    if (current.current.trim() !== "") return;
    setText(refusal.text);
    setRetryOf(refusal);
  }, [refusal]);

  const submit = () => {
    if (!chat || disabled || empty || over) return;
    if (retryOf && chat.getSnapshot().commands[retryOf.commandId]?.status === "refused" && text.trim() === retryOf.text) chat.retry(retryOf.commandId);
    else {
      if (retryOf) chat.dismiss(retryOf.commandId);
      chat.send(text);
    }
    setRetryOf(null);
    setText("");
    input.current?.focus();
  };

  return (
    <form
      className="chat-composer"
      data-testid="chat-composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {refusal && (
        <div className="chat-refusal" role="status" data-testid="chat-refusal" data-code={refusal.code ?? undefined}>
          <p>
            {commandProblem(refusal)} {refusal.retryAt !== null && <RetryCountdown retryAt={refusal.retryAt} />}
          </p>
          <span>
            {refusal.command === "addReaction" && (
              <button type="button" className="btn btn-small" onClick={() => chat?.retry(refusal.commandId)}>
                Retry
              </button>
            )}
            <button type="button" className="btn btn-quiet btn-small" onClick={() => chat?.dismiss(refusal.commandId)}>
              Dismiss
            </button>
          </span>
        </div>
      )}
      <label htmlFor={id} className="sr-only">
        Message the table
      </label>
      <div className="chat-input-row">
        <textarea
          id={id}
          ref={input}
          rows={2}
          value={text}
          disabled={disabled}
          placeholder={seated ? "Message the table" : NO_SEAT_TEXT}
          aria-describedby={`${id}-hint`}
          aria-invalid={over || undefined}
          data-testid="chat-input"
          onChange={(e) => {
            setText(e.target.value);
            if (e.target.value.trim()) chat?.typing();
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              submit();
            }
          }}
        />
        <button type="submit" className="btn btn-primary" disabled={disabled || empty || over} data-testid="chat-send">
          Send
        </button>
      </div>
      <p id={`${id}-hint`} className={`small ${over ? "error" : "muted"}`} data-testid="chat-hint">
        {!seated
          ? NO_SEAT_TEXT
          : show
            ? over
              ? `${-left} characters over the limit`
              : `${left} characters left`
            : "Enter sends, Shift+Enter starts a new line."}
      </p>
    </form>
  );
}
