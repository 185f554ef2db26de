// Reading the boot info and the config: lines, fields and numbers. Never aborts on bad input
// (a number that is not one is -1), since init must not fault on a bad config.

/** The lines of `text`, split at "\n" (a "\r" before it is dropped). */
export function lines(text: string): string[] {
  const out = text.split("\n");
  for (let i = 0; i < out.length; i++) {
    const line = unchecked(out[i]);
    if (line.endsWith("\r")) unchecked((out[i] = line.substring(0, line.length - 1)));
  }
  return out;
}

export { fields } from "../../lib/fields";

/** A decimal count of at most 9 digits, or -1 when `s` is anything else. */
export function parseCount(s: string): i32 {
  if (s.length == 0 || s.length > 9) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/** The text after "KEY=" when `field` starts with it, else null. */
export function valueOf(field: string, key: string): string | null {
  return field.startsWith(key + "=") ? field.substring(key.length + 1) : null;
}
