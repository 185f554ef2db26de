// What the boot info (docs/BOOT.md "Boot info") says to the file system: `param format ID`, which
// `dogma boot --format` puts there — format the disk, whatever it holds, once in this boot. ID is
// up to 16 hex digits, new at every boot, and kept in the superblock it makes (mount.ts), so a
// server restarted in the same boot finds the request answered. Read from the boot info's view
// without allocating.
import { msgBegin, msgInvoke, msgWord, OP_REGION_INFO } from "../../lib";

const NEWLINE: u8 = 0x0a;

/** The format request in the boot info at `infoCap` (a Region view): its ID, or 0 when there is none. */
export function formatRequest(infoCap: i32): u64 {
  msgBegin(OP_REGION_INFO);
  if (msgInvoke(infoCap) < 0) return 0;
  const base = <usize>msgWord(0);
  const pages = msgWord(1);
  const length = min(load<u32>(base), pages * 4096 - 4);
  const text = base + 4;
  let at: u32 = 0;
  while (at < length) {
    let end = at;
    while (end < length && load<u8>(text + end) != NEWLINE) end++;
    if (startsWith(text + at, end - at, "config") && end - at <= 7) return 0; // the config follows: no more params
    if (startsWith(text + at, end - at, "param format ")) return hex(text + at + 13, end - at - 13);
    at = end + 1;
  }
  return 0;
}

function startsWith(at: usize, length: u32, word: string): bool {
  if (<i32>length < word.length) return false;
  for (let i = 0; i < word.length; i++) if (<i32>load<u8>(at + <usize>i) != word.charCodeAt(i)) return false;
  return true;
}

// 1 to 16 hex digits (a trailing '\r' or spaces allowed), or 0 for anything else.
function hex(at: usize, length: u32): u64 {
  while (length > 0 && load<u8>(at + length - 1) <= 0x20) length--;
  if (length == 0 || length > 16) return 0;
  let value: u64 = 0;
  for (let i: u32 = 0; i < length; i++) {
    const c = <u32>load<u8>(at + i);
    let digit: u32;
    if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) digit = c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x46) digit = c - 0x41 + 10;
    else return 0;
    value = (value << 4) | <u64>digit;
  }
  return value;
}
