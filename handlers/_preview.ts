/**
 * Shared by the handlers (the leading `_` keeps the loader from taking it for a handler module).
 */

/** A value as a short one-line string for an error message: JSON, cut at 200 characters. */
export function preview(value: unknown): string {
  const s = value === undefined ? 'nothing' : JSON.stringify(value) ?? String(value);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
