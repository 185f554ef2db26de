// What Tab offers (editor.ts): the first word of a command is completed from the builtins, the
// functions, the boot modules and every file in PATH's directories; any other word (or one with
// a /) from the names in its directory, a directory's with a / after it. Names starting with "."
// only when the word does.
import { Completer } from "./editor";
import { Shell } from "./exec";
import { builtinNames } from "./builtins";

/** Whether the text before `at` ends where a command starts: nothing, or |, ;, &, (, `, or $( before it. */
function commandPosition(text: string, at: i32): bool {
  let i = at - 1;
  while (i >= 0 && (text.charCodeAt(i) == 0x20 || text.charCodeAt(i) == 0x09)) i--;
  if (i < 0) return true;
  const c = text.charCodeAt(i);
  return c == 0x7c || c == 0x3b || c == 0x26 || c == 0x28 || c == 0x60 || c == 0x7b;
}

export class ShellCompleter extends Completer {
  constructor(readonly sh: Shell) {
    super();
  }

  candidates(before: string): string[] {
    let start = before.length;
    while (start > 0 && before.charCodeAt(start - 1) != 0x20 && before.charCodeAt(start - 1) != 0x09) start--;
    this.word = before.slice(start);
    const found = new Array<string>();
    if (!this.word.includes("/") && commandPosition(before, start)) {
      const names = builtinNames().concat(this.sh.functions.keys()).concat(this.sh.programNames());
      for (let i = 0; i < names.length; i++) if (names[i].startsWith(this.word) && !found.includes(names[i])) found.push(names[i]);
      return found;
    }
    const slash = this.word.lastIndexOf("/");
    const dir = slash < 0 ? "" : slash == 0 ? "/" : this.word.slice(0, slash);
    const prefix = this.word.slice(slash + 1);
    const entries = this.sh.files.list(dir.length == 0 ? "." : dir);
    if (entries == null) return found;
    const base = slash < 0 ? "" : this.word.slice(0, slash + 1);
    for (let i = 0; i < entries!.length; i++) {
      const e = entries![i];
      if (!e.name.startsWith(prefix)) continue;
      if (e.name.startsWith(".") && !prefix.startsWith(".")) continue;
      found.push(base + e.name + (e.directory ? "/" : ""));
    }
    return found;
  }
}
