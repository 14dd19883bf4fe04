import type { z } from "zod";

/** Zod issues as `[{ path, message }]`, the `details` of a VALIDATION_FAILED answer. */
export function zodDetails(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.slice(0, 20).map((i) => ({ path: i.path.join("."), message: i.message }));
}
