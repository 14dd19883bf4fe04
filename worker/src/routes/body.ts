import { ApiError } from "../errors.ts";

/**
 * Reads a request body, refusing it as soon as it exceeds `limit` bytes: the declared
 * Content-Length is checked first, then the bytes actually streamed (a sender may lie or chunk).
 */
export async function readBodyLimited(req: Request, limit: number): Promise<Uint8Array> {
  const tooLarge = () => new ApiError("BODY_TOO_LARGE", `The body exceeds ${limit} bytes.`);
  const declared = Number(req.headers.get("Content-Length") ?? NaN);
  if (declared > limit) throw tooLarge();
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Parses a JSON body of at most `limit` bytes; an empty body is `{}`. */
export async function readJson(req: Request, limit: number): Promise<unknown> {
  const raw = await readBodyLimited(req, limit);
  if (raw.length === 0) return {};
  try {
    return JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new ApiError("INVALID_JSON", "The body is not valid JSON.");
  }
}
