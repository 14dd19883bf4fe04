/**
 * The hub's counters for operators (GET /api/metrics): connections opened, events sequenced,
 * signals sent, closes by code and side, chat command and history outcomes. Kept in the object's SQLite and
 * written through on each count (one small upsert, no timer), so they survive hibernation and
 * eviction; gauges (sockets, seq) are read when asked. Signals, the one hot counter, are written
 * at most once a second (or with the next other count), and so are events.
 */
import { migrate } from "../../storage/migrations.ts";

const MIGRATIONS = [`CREATE TABLE hub_metrics (name TEXT NOT NULL, labels TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (name, labels))`];

/** What the hub's parts count with (a no-op stand-in in unit tests). */
export interface HubCounters {
  count(name: CounterName, labels?: Record<string, string | number>, by?: number): void;
}

/** Every counter, with its help text (the Prometheus HELP line). */
export const COUNTERS = {
  hub_connections_total: "Sockets accepted, by transport (ws: /api/ws, sse: an /api/stream bridge).",
  hub_events_total: "Public events sequenced and broadcast, by event.",
  hub_signals_total: "Signals sent (one per signal, however many sockets got it), by signal.",
  hub_closes_total: "Sockets closed, by code and by who closed (hub or client).",
  hub_commands_total: "Table chat commands, by command, outcome (accepted, collapsed, duplicate, refused, sent, failed) and code.",
  hub_chat_history_total:
    "Table chat history requests, by outcome (read: a Discord call made, shared: answered by an identical call in flight, refused, failed) and code.",
} as const;
export type CounterName = keyof typeof COUNTERS;

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Counters too hot to write one by one (an ICE candidate burst is hundreds of signals a second; events come in batches of 500). */
const BUFFERED: ReadonlySet<CounterName> = new Set(["hub_signals_total", "hub_events_total"]);
/** A buffered count is written within this long while counts keep coming, or with any other count. */
const FLUSH_MS = 1_000;

export class HubMetrics implements HubCounters {
  /** name + labels key -> increments not yet written. */
  private readonly pending = new Map<string, { name: string; key: string; by: number }>();
  private flushedAt = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly now: () => number = Date.now,
  ) {
    migrate(sql, "metrics", MIGRATIONS);
  }

  count(name: CounterName, labels: Record<string, string | number> = {}, by = 1): void {
    const key = JSON.stringify(
      Object.fromEntries(
        Object.entries(labels)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, String(v)]),
      ),
    );
    const id = `${name} ${key}`;
    const p = this.pending.get(id);
    if (p) p.by += by;
    else this.pending.set(id, { name, key, by });
    // Written through, except the hot ones, which go with the next other count or within FLUSH_MS:
    // at most about a second of signals is lost if the object is evicted right after them.
    if (!BUFFERED.has(name) || this.now() - this.flushedAt >= FLUSH_MS) this.flush();
  }

  /** Writes every pending increment. */
  flush(): void {
    this.flushedAt = this.now();
    for (const p of this.pending.values()) {
      this.sql.exec(
        "INSERT INTO hub_metrics (name, labels, value) VALUES (?, ?, ?) ON CONFLICT (name, labels) DO UPDATE SET value = value + excluded.value",
        p.name,
        p.key,
        p.by,
      );
    }
    this.pending.clear();
  }

  samples(): MetricSample[] {
    this.flush();
    return this.sql
      .exec<{ name: string; labels: string; value: number }>("SELECT name, labels, value FROM hub_metrics ORDER BY name, labels")
      .toArray()
      .map((r) => ({ name: r.name, labels: JSON.parse(r.labels) as Record<string, string>, value: r.value }));
  }
}

/** Prometheus text format of samples (several guilds' hubs, each labelled with its guild). */
export function renderPrometheus(counters: MetricSample[], gauges: MetricSample[]): string {
  const byName = new Map<string, MetricSample[]>();
  for (const s of [...counters, ...gauges]) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  const help: Record<string, [string, string]> = {
    ...Object.fromEntries(Object.entries(COUNTERS).map(([k, v]) => [k, [v, "counter"] as [string, string]])),
    hub_sockets: ["Sockets connected now (authenticated or not).", "gauge"],
    hub_authenticated_sockets: ["Sockets whose player is authenticated.", "gauge"],
    hub_seq: ["The hub's current event seq.", "gauge"],
  };
  let out = "";
  for (const [name, samples] of byName) {
    const [text, type] = help[name] ?? ["", "untyped"];
    out += `# HELP ${name} ${text}\n# TYPE ${name} ${type}\n`;
    for (const s of samples) out += `${name}${renderLabels(s.labels)} ${s.value}\n`;
  }
  return out;
}

function renderLabels(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}
