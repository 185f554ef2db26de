// Expansion of the words of a command as it runs: $NAME, ${NAME} and $? (the last status) in
// bare and "…" parts, nothing in '…'; then, for words with a bare * or ?, the names of the file
// system that match (glob.ts), sorted, or the word itself when none does. A variable's value is
// one word, whatever it holds (no splitting on spaces), and its * and ? are taken literally.
import { Word, PART_BARE, PART_DOUBLE, PART_SINGLE, isName } from "./parse";
import { Variables } from "./variables";

/** A word after its variables: its text, and which of its characters are live wildcards. */
export class Expanded {
  text: string = "";
  wild: bool[] = [];
  hasWild: bool = false;

  add(text: string, wild: bool): void {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const live = wild && (c == 0x2a || c == 0x3f);
      this.wild.push(live);
      if (live) this.hasWild = true;
    }
    this.text += text;
  }
}

export class Expander {
  /** The last status, for $?. */
  status: i32 = 0;
  constructor(readonly variables: Variables) {}

  /** `word` with its variables replaced (no globbing): for assignments and file names. */
  text(word: Word): string {
    return this.expand(word).text;
  }

  expand(word: Word): Expanded {
    const out = new Expanded();
    for (let i = 0; i < word.parts.length; i++) {
      const part = word.parts[i];
      if (part.kind == PART_SINGLE) out.add(part.text, false);
      else this.substitute(part.text, part.kind == PART_BARE, out);
    }
    return out;
  }

  /** Copies `text` to `out` with $NAME, ${NAME} and $? replaced; `bare` text keeps its wildcards live. */
  private substitute(text: string, bare: bool, out: Expanded): void {
    let i = 0;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c == 0x5c && i + 1 < text.length && text.charCodeAt(i + 1) == 0x24) {
        out.add("$", false); // \$ inside "…"
        i += 2;
        continue;
      }
      if (c != 0x24 || i + 1 >= text.length) {
        out.add(text.charAt(i), bare);
        i++;
        continue;
      }
      const d = text.charCodeAt(i + 1);
      if (d == 0x3f) {
        out.add(this.status.toString(), false);
        i += 2;
        continue;
      }
      if (d == 0x7b) {
        const close = text.indexOf("}", i + 2);
        const name = close < 0 ? "" : text.slice(i + 2, close);
        if (close >= 0 && isName(name)) {
          out.add(this.variables.get(name), false);
          i = close + 1;
          continue;
        }
        out.add("$", false);
        i++;
        continue;
      }
      let end = i + 1;
      while (end < text.length && isName(text.slice(i + 1, end + 1))) end++;
      if (end == i + 1) {
        out.add("$", false); // a $ before no name is itself
        i++;
        continue;
      }
      out.add(this.variables.get(text.slice(i + 1, end)), false);
      i = end;
    }
  }
}

/** Whether `name` matches `pattern` from `p` (and `n`): a live * any run of characters, a live ? one. */
export function matches(pattern: string, wild: bool[], p: i32, name: string, n: i32): bool {
  while (p < pattern.length) {
    const c = pattern.charCodeAt(p);
    if (wild[p] && c == 0x2a) {
      for (let k = n; k <= name.length; k++) if (matches(pattern, wild, p + 1, name, k)) return true;
      return false;
    }
    if (n >= name.length) return false;
    if (!(wild[p] && c == 0x3f) && c != name.charCodeAt(n)) return false;
    p++;
    n++;
  }
  return n == name.length;
}
