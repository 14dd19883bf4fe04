/**
 * The lobby page (served by the Worker from worker/public): sign in, the guild's tables with who
 * is in voice (live), a page per table, create / join / leave / invite / end, the connection
 * banner, and the closing, ended and voice-dropout notices. Built on @spell-coven/client and its
 * React hook.
 */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App, takeInviteFromUrl } from "./components/App.tsx";
import { resolveConfig } from "./config.ts";

const invite = takeInviteFromUrl();
const config = await resolveConfig();
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App config={config} invite={invite} />
  </StrictMode>,
);
