// The boot modules' names, read from the boot info (docs/BOOT.md "Boot info") as bytes where they
// lie: only the `module I NAME` lines before the config are looked at, and nothing of the text is
// copied, so a boot info of any size — a config line of 100 KB — costs the process manager no
// memory (parsing it whole into strings ran it out of its 128 pages, and init restarted it until
// it gave up).
import { msgBegin, msgInvoke, msgWord, OP_REGION_INFO, REGISTRY_NAME_BYTES, REGISTRY_NAME_WORDS } from "../../lib";

const NEWLINE: u8 = 0x0a;

/** Puts the name of each module line into `words` at its index (REGISTRY_NAME_WORDS words each, zero-padded): how many slots that spans, or -1 when the boot info cannot be read. */
export function readModuleNames(infoCap: i32, words: StaticArray<StaticArray<u32>>): i32 {
  msgBegin(OP_REGION_INFO);
  if (msgInvoke(infoCap) < 0) return -1;
  const base = <usize>msgWord(0);
  const pages = msgWord(1);
  if (pages == 0) return -1;
  const length = min(load<u32>(base), pages * 4096 - 4);
  const text = base + 4;
  let count = 0;
  let at: u32 = 0;
  while (at < length) {
    let end = at;
    while (end < length && load<u8>(text + end) != NEWLINE) end++;
    let lineEnd = end;
    if (lineEnd > at && load<u8>(text + lineEnd - 1) == 0x0d) lineEnd--;
    if (lineEnd - at == 6 && startsWith(text + at, "config")) break; // the config: nothing for us
    const index = moduleIndex(text + at, lineEnd - at);
    if (index >= 0 && index < words.length && nameLength > 0 && nameLength <= <u32>REGISTRY_NAME_BYTES) {
      const name = new StaticArray<u32>(REGISTRY_NAME_WORDS);
      for (let b: u32 = 0; b < nameLength; b++) name[b >> 2] |= <u32>load<u8>(nameAt + b) << (8 * (b & 3));
      words[index] = name;
      count = max(count, index + 1);
    }
    at = end + 1;
  }
  return count;
}

let nameAt: usize = 0;
let nameLength: u32 = 0;

// "module I NAME": I (NAME in nameAt, nameLength); -1 for any other line.
function moduleIndex(line: usize, length: u32): i32 {
  if (length < 10 || !startsWith(line, "module ")) return -1;
  let i: u32 = 7;
  let index: i32 = 0;
  while (i < length && i < 12 && load<u8>(line + i) >= 0x30 && load<u8>(line + i) <= 0x39) index = index * 10 + <i32>(load<u8>(line + i++) - 0x30);
  if (i == 7 || i >= length || load<u8>(line + i) != 0x20) return -1;
  nameAt = line + i + 1;
  nameLength = length - i - 1;
  while (nameLength > 0 && load<u8>(nameAt + nameLength - 1) <= 0x20) nameLength--;
  for (let k: u32 = 0; k < nameLength; k++) if (load<u8>(nameAt + k) <= 0x20) return -1; // one field
  return index;
}

function startsWith(at: usize, word: string): bool {
  for (let i = 0; i < word.length; i++) if (<i32>load<u8>(at + <usize>i) != word.charCodeAt(i)) return false;
  return true;
}
