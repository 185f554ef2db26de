// Splitting a line of a config or a manifest into its words. Never aborts on bad input: init and
// the installer must not fault on a bad line.

/** The fields of a line, split at spaces, tabs and "\r"; "#" starts a comment that runs to its end. */
export function fields(line: string): string[] {
  const hash = line.indexOf("#");
  if (hash >= 0) line = line.substring(0, hash);
  const out = new Array<string>();
  let start = -1;
  for (let i = 0; i <= line.length; i++) {
    const c = i < line.length ? line.charCodeAt(i) : 0x20;
    if (c == 0x20 || c == 0x09 || c == 0x0d) {
      if (start >= 0) out.push(line.substring(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  return out;
}
