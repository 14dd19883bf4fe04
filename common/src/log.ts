/**
 * Structured JSON logs, one object per line, filtered by LOG_LEVEL (DEBUG, INFO, WARN, ERROR).
 * Values of keys that look secret are replaced before anything is written.
 */
export const LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

const SECRET_KEY = /token|secret|authorization|password|signature|cookie|api[-_]?key/i;

export function parseLogLevel(value: string | undefined, fallback: LogLevel = "INFO"): LogLevel {
  const upper = value?.toUpperCase();
  return (LOG_LEVELS as readonly string[]).includes(upper ?? "") ? (upper as LogLevel) : fallback;
}

/** Copies `fields`, masking secret-looking keys (at any depth) and flattening errors. */
export function redact(fields: unknown, depth = 0): unknown {
  if (fields instanceof Error) return { name: fields.name, message: fields.message };
  if (depth > 4 || fields === null || typeof fields !== "object") return fields;
  if (Array.isArray(fields)) return fields.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = SECRET_KEY.test(k) ? "[redacted]" : redact(v, depth + 1);
  return out;
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  readonly level: LogLevel;
}

export function createLogger(level: LogLevel | string | undefined, base: LogFields = {}, write: (line: string) => void = (line) => console.log(line)): Logger {
  const min = LOG_LEVELS.indexOf(typeof level === "string" ? parseLogLevel(level) : "INFO");
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(lvl) < min) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...(redact({ ...base, ...fields }) as object) }));
  };
  return {
    level: LOG_LEVELS[min]!,
    debug: (m, f) => emit("DEBUG", m, f),
    info: (m, f) => emit("INFO", m, f),
    warn: (m, f) => emit("WARN", m, f),
    error: (m, f) => emit("ERROR", m, f),
    child: (f) => createLogger(LOG_LEVELS[min], { ...base, ...f }, write),
  };
}
