// Globbing (expand.ts): the names a field with live * ? or [...] matches, one directory level per
// name of the path, through the shell's file system (and /host). Names that start with "." match
// only a pattern that does too. None found: the field stays as it is.
import { Expanded, matchPattern } from "./expand";
import { ShellFiles } from "./shell-files";

class Piece {
  text: string = "";
  wild: bool[] = [];
  hasWild: bool = false;
}

function pieces(word: Expanded): Piece[] {
  const out = new Array<Piece>();
  let piece = new Piece();
  for (let i = 0; i < word.text.length; i++) {
    const c = word.text.charCodeAt(i);
    if (c == 0x2f) {
      out.push(piece);
      piece = new Piece();
      continue;
    }
    piece.text += word.text.charAt(i);
    piece.wild.push(word.wild[i]);
    if (word.wild[i]) piece.hasWild = true;
  }
  out.push(piece);
  return out;
}

function joined(base: string, name: string): string {
  if (base.length == 0) return name;
  return base.endsWith("/") ? base + name : base + "/" + name;
}

/** What `word` names: every match, sorted; the word itself when nothing matches. */
export function glob(word: Expanded, files: ShellFiles): string[] {
  if (!word.hasWild || !files.present) return [word.text];
  const parts = pieces(word);
  let bases: string[] = [word.text.startsWith("/") ? "/" : ""];
  let checkedUpTo = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part.text.length == 0) continue;
    if (!part.hasWild) {
      for (let b = 0; b < bases.length; b++) bases[b] = joined(bases[b], part.text);
      continue;
    }
    const next = new Array<string>();
    for (let b = 0; b < bases.length; b++) {
      const entries = files.list(bases[b]);
      if (entries == null) continue;
      for (let n = 0; n < entries!.length; n++) {
        const name = entries![n].name;
        if (name.startsWith(".") && !part.text.startsWith(".")) continue;
        if (matchPattern(part.text, part.wild, 0, name, 0)) next.push(joined(bases[b], name));
      }
    }
    bases = next;
    checkedUpTo = i;
  }
  // Names after the last wildcard must be there too: their directory is listed for each.
  const found = new Array<string>();
  for (let b = 0; b < bases.length; b++) {
    if (checkedUpTo == parts.length - 1 || exists(bases[b], files)) found.push(bases[b]);
  }
  if (found.length == 0) return [word.text];
  return found.sort();
}

function exists(path: string, files: ShellFiles): bool {
  return files.kindOf(path.length == 0 ? "." : path) >= 0;
}
