import { useState } from "react";
import type { LobbyConfig } from "../config.ts";
import { FeedbackProvider } from "../feedback.tsx";
import { loadSession, saveSession, type Session } from "../session.ts";
import { Header } from "./Header.tsx";
import { Lobby, type PendingInvite } from "./Lobby.tsx";
import { ToastView } from "./Notices.tsx";
import { SignIn } from "./SignIn.tsx";

/** `?invite=<token>&room=<channelId>`, as the API's invite links carry; taken out of the address bar at once. */
export function takeInviteFromUrl(): PendingInvite | null {
  const u = new URL(location.href);
  const invite = u.searchParams.get("invite");
  if (!invite) return null;
  const room = u.searchParams.get("room");
  u.searchParams.delete("invite");
  u.searchParams.delete("room");
  history.replaceState(null, "", u.pathname + u.search + u.hash);
  return { invite, room: room && /^\d{1,20}$/.test(room) ? room : null };
}

/** Signed out: the sign-in card. Signed in: the lobby, with one client per sign-in. */
export function App({ config, invite: initialInvite }: { config: LobbyConfig; invite: PendingInvite | null }) {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [signIns, setSignIns] = useState(0);
  const [message, setMessage] = useState<string | null>(null);
  const [invite, setInvite] = useState(initialInvite);

  const signIn = (s: Session) => {
    saveSession(s);
    setMessage(null);
    setSignIns((n) => n + 1);
    setSession(s);
  };
  const signOut = (why?: string) => {
    saveSession(null);
    setInvite(null);
    setMessage(why ?? null);
    setSession(null);
  };

  return (
    <FeedbackProvider>
      {session ? (
        <Lobby key={signIns} session={session} config={config} invite={invite} onSignOut={signOut} />
      ) : (
        <>
          <Header />
          <main className="page">
            <SignIn simUrl={config.simUrl} invited={invite !== null} message={message} onSignedIn={signIn} />
          </main>
        </>
      )}
      <ToastView />
    </FeedbackProvider>
  );
}
