// An FC event function's event as a value: FC hands a Buffer (or a string) of JSON; anything that
// is not JSON comes back as undefined for the caller's schema to reject.

export function parseEvent(event: unknown): unknown {
  const text = Buffer.isBuffer(event) ? event.toString("utf8") : event;
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
