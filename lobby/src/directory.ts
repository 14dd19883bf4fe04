/**
 * Names for ids. The wire contract carries ids only; in the local run the simulator's state gives
 * the players' and channels' names (a real site would use its own user directory). Unknown ids
 * show as "Player …1234".
 */
import { createContext, useContext, useEffect, useMemo, useState } from "react";
import { shortId } from "./format.ts";

export interface Directory {
  userName(userId: string): string;
  /** The channel's name, or null when unknown. */
  channelName(channelId: string): string | null;
}

const empty = { users: new Map<string, string>(), channels: new Map<string, string>() };

export function makeDirectory(users: ReadonlyMap<string, string>, channels: ReadonlyMap<string, string>): Directory {
  return {
    userName: (id) => users.get(id) ?? `Player ${shortId(id)}`,
    channelName: (id) => channels.get(id) ?? null,
  };
}

export const DirectoryContext = createContext<Directory>(makeDirectory(empty.users, empty.channels));

export function useDirectory(): Directory {
  return useContext(DirectoryContext);
}

/** Loads the simulator's names (when there is one); `version` reloads them (a table was created). */
export function useSimulatorDirectory(simUrl: string | null, version: number): Directory {
  const [names, setNames] = useState(empty);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` is the reload trigger
  useEffect(() => {
    if (!simUrl) return;
    const abort = new AbortController();
    fetch(`${simUrl}/control/state`, { signal: abort.signal })
      .then((res) => (res.ok ? (res.json() as Promise<SimState>) : null))
      .then((state) => {
        if (!state) return;
        const users = new Map((state.users ?? []).map((u) => [u.id, u.username] as const));
        const channels = new Map((state.guilds ?? []).flatMap((g) => (g.channels ?? []).filter((c) => c.name).map((c) => [c.id, c.name!] as const)));
        setNames({ users, channels });
      })
      .catch(() => {
        // names are a nicety: ids are shown instead
      });
    return () => abort.abort();
  }, [simUrl, version]);
  return useMemo(() => makeDirectory(names.users, names.channels), [names]);
}

interface SimState {
  guilds?: { channels?: { id: string; name?: string }[] }[];
  users?: { id: string; username: string }[];
}
