import type { ReactNode } from "react";
import { useFeedback } from "../feedback.tsx";
import { RetryCountdown, ClosingCountdown } from "./Countdown.tsx";

export interface DropoutNotice {
  userId: string;
  channelId: string;
  roomName: string;
  /** Where the player went: a channel's name, or null when they left voice. */
  movedTo: string | null;
}

export interface EndedNotice {
  channelId: string;
  name: string;
  /** Closed by the idle timer rather than by its host. */
  idle: boolean;
}

function Notice({ tone, testId, children, onDismiss }: { tone: "warn" | "error"; testId: string; children: ReactNode; onDismiss(): void }) {
  return (
    <div className={`notice notice-${tone}`} data-testid={testId}>
      <p>{children}</p>
      <button type="button" className="btn btn-quiet" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}

/** The notices over the page: failed actions, voice dropout, the player's table closing or ended. */
export function Notices(props: {
  dropout: DropoutNotice | null;
  onDismissDropout(): void;
  closing: { channelId: string; name: string; closesAt: number } | null;
  onDismissClosing(channelId: string): void;
  ended: readonly EndedNotice[];
  onDismissEnded(channelId: string): void;
}) {
  const feedback = useFeedback();
  const { dropout, closing, ended } = props;
  const any = feedback.errors.length > 0 || dropout || closing || ended.length > 0;
  return (
    <div className="notices" aria-live="assertive" hidden={!any}>
      {feedback.errors.map((e) => (
        <Notice key={e.key} tone="error" testId="error" onDismiss={() => feedback.dismiss(e.key)}>
          <span role="alert">{e.text}</span>
          {e.retryAt !== null && (
            <>
              {" "}
              <RetryCountdown retryAt={e.retryAt} />
            </>
          )}
          {e.requestId && <span className="muted small"> (request {e.requestId})</span>}
        </Notice>
      ))}
      {ended.map((n) => (
        <Notice key={n.channelId} tone="error" testId="table-ended" onDismiss={() => props.onDismissEnded(n.channelId)}>
          <strong>{n.name} has ended. </strong>
          {n.idle ? "It closed because nobody was in its voice channel." : "Its host ended the table, so your seat is gone."} Pick another table or start one.
        </Notice>
      ))}
      {dropout && (
        <Notice tone="warn" testId="dropout" onDismiss={props.onDismissDropout}>
          <strong>You dropped out of voice. </strong>
          {dropout.movedTo
            ? `You moved from the voice channel of ${dropout.roomName} to ${dropout.movedTo}.`
            : `You left the voice channel of ${dropout.roomName}.`}{" "}
          Rejoin it in Discord to keep playing.
        </Notice>
      )}
      {closing && (
        <Notice tone="error" testId="closing-warning" onDismiss={() => props.onDismissClosing(closing.channelId)}>
          <strong>{closing.name}: </strong>
          <ClosingCountdown closesAt={closing.closesAt} />
        </Notice>
      )}
    </div>
  );
}

/** The short confirmation at the bottom ("Invite link copied."). */
export function ToastView() {
  const { toast } = useFeedback();
  return (
    <div className="toast" role="status" aria-live="polite" id="toast" hidden={!toast}>
      {toast?.text}
    </div>
  );
}
