/**
 * Errors in Discord's JSON error format ({code, message, errors?}). The world throws these, the
 * REST layer serialises them as Discord would, and the control API reuses code and message.
 */
import { RESTJSONErrorCodes } from "discord-api-types/v10";

/** Discord's nested form errors: {field: {_errors: [{code, message}]}, nested: {field: ...}}. */
export interface FormErrorTree {
  _errors?: { code: string; message: string }[];
  [key: string]: FormErrorTree | { code: string; message: string }[] | undefined;
}

/**
 * An error the simulated Discord answers with (its status and Discord's JSON error code). Named
 * apart from the REST client's `SimulatedApiError`, which is what a caller gets for such an answer.
 */
export class SimulatedApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: FormErrorTree,
  ) {
    super(message);
  }

  toJSON(): { code: number; message: string; errors?: FormErrorTree } {
    return this.errors ? { code: this.code, message: this.message, errors: this.errors } : { code: this.code, message: this.message };
  }
}

const unknowns = {
  Channel: RESTJSONErrorCodes.UnknownChannel,
  Guild: RESTJSONErrorCodes.UnknownGuild,
  Member: RESTJSONErrorCodes.UnknownMember,
  Message: RESTJSONErrorCodes.UnknownMessage,
  Role: RESTJSONErrorCodes.UnknownRole,
  User: RESTJSONErrorCodes.UnknownUser,
  Emoji: RESTJSONErrorCodes.UnknownEmoji,
} as const;

/** 404 "Unknown Channel" (10003) and friends, exactly as Discord words them. */
export function unknown(what: keyof typeof unknowns): SimulatedApiError {
  return new SimulatedApiError(404, unknowns[what], `Unknown ${what}`);
}

/**
 * Collects field errors and throws one 50035 "Invalid Form Body" with Discord's nested shape.
 * Paths are arrays of keys: ["permission_overwrites", 0, "id"].
 */
export class FormErrors {
  private readonly tree: FormErrorTree = {};
  private count = 0;

  add(path: (string | number)[], code: string, message: string): void {
    let node = this.tree;
    for (const key of path) {
      const k = String(key);
      node[k] ??= {};
      node = node[k] as FormErrorTree;
    }
    (node._errors ??= []).push({ code, message });
    this.count++;
  }

  required(path: (string | number)[]): void {
    this.add(path, "BASE_TYPE_REQUIRED", "This field is required");
  }

  /** The 50035 error, or null when every field passed. */
  error(): SimulatedApiError | null {
    if (this.count === 0) return null;
    return new SimulatedApiError(400, RESTJSONErrorCodes.InvalidFormBodyOrContentType, "Invalid Form Body", this.tree);
  }

  throwIfAny(): void {
    const error = this.error();
    if (error) throw error;
  }
}

/** A 50035 for one field, for `throw invalidField(...)`. */
export function invalidField(path: (string | number)[], code: string, message: string): SimulatedApiError {
  const form = new FormErrors();
  form.add(path, code, message);
  return form.error() as SimulatedApiError;
}
