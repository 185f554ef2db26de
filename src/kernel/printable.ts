/**
 * `text` with every control character (C0 but tab, DEL, C1) written as `\xNN`: for the lines the
 * kernel and the loader make of what a program or a binary chose — an import's or a function's
 * name, an image's name, an abort's message — which a host prints on a person's terminal. A
 * process that holds no console (or a binary refused before it ran) must not drive that terminal
 * through them: clear it, set its title, write its clipboard, fake a prompt (redteam8).
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
