import { useEffect, useState, type FormEvent } from "react";
import { initial } from "../format.ts";
import { listSimUsers, mintSimToken, peekJwt, type Session, type SimUser } from "../session.ts";

type Users = { kind: "loading" } | { kind: "none" } | { kind: "failed"; message: string } | { kind: "ready"; users: SimUser[] };

/** Sign in: pick a simulated player (local run), or paste a token. */
export function SignIn({
  simUrl,
  invited,
  message,
  onSignedIn,
}: {
  simUrl: string | null;
  invited: boolean;
  message: string | null;
  onSignedIn(session: Session): void;
}) {
  const [users, setUsers] = useState<Users>(simUrl ? { kind: "loading" } : { kind: "none" });
  const [error, setError] = useState<string | null>(message);
  const [busy, setBusy] = useState<string | null>(null);
  const [token, setToken] = useState("");

  useEffect(() => {
    if (!simUrl) return;
    let live = true;
    listSimUsers(simUrl)
      .then((list) => live && setUsers({ kind: "ready", users: list }))
      .catch((err: unknown) => live && setUsers({ kind: "failed", message: err instanceof Error ? err.message : String(err) }));
    return () => {
      live = false;
    };
  }, [simUrl]);

  const signInAs = async (user: SimUser) => {
    if (!simUrl) return;
    setBusy(user.id);
    try {
      onSignedIn({ token: await mintSimToken(simUrl, user.id), simUserId: user.id, username: user.username });
    } catch (err) {
      setError(`Could not sign in: ${err instanceof Error ? err.message : String(err)}`);
      setBusy(null);
    }
  };

  const onTokenSubmit = (e: FormEvent) => {
    e.preventDefault();
    const t = token.trim();
    if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(t)) {
      setError("That does not look like a token (three parts separated by dots).");
      return;
    }
    onSignedIn({ token: t, simUserId: null, username: peekJwt(t).name });
  };

  const tokenOpen = users.kind === "none" || users.kind === "failed";
  return (
    <section className="card signin" aria-labelledby="signin-heading">
      <h1 id="signin-heading">Sign in to the lobby</h1>
      <p className="muted">
        {invited ? "You've been invited to a table. Sign in to take your seat." : "Pick who you are to see the tables and who is in voice."}
      </p>
      <div className="user-grid">
        {users.kind === "loading" && <p className="muted">Loading players…</p>}
        {users.kind === "failed" && (
          <p className="muted">
            The local identity provider at {simUrl} is not answering ({users.message}). Sign in with a token instead.
          </p>
        )}
        {users.kind === "ready" &&
          users.users.map((u) => (
            <button key={u.id} type="button" className="user-pick" data-user-id={u.id} disabled={busy !== null} onClick={() => void signInAs(u)}>
              <span className="avatar avatar-lg" aria-hidden="true">
                {initial(u.username)}
              </span>
              <span>Sign in as {u.username}</span>
            </button>
          ))}
      </div>
      <details className="token-signin" open={tokenOpen || undefined}>
        <summary>Sign in with a token</summary>
        <form className="stack" onSubmit={onTokenSubmit}>
          <label htmlFor="token-input">Your Spell Coven token</label>
          <textarea id="token-input" rows={3} autoComplete="off" spellCheck={false} required value={token} onChange={(e) => setToken(e.target.value)} />
          <button type="submit" className="btn">
            Sign in
          </button>
        </form>
      </details>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
