// wc [-lwmc] [FILE]...: newlines, words and bytes (or what the options ask: -l lines, -w words,
// -m characters, -c bytes) of each FILE, standard input when none, and a total for several,
// in columns as wide as GNU's.
import { args } from "../lib";
import { Options } from "../lib/options";
import { FS_RIGHT_READ } from "../lib/fs-client";
import { Input } from "./tool-parts/input";
import { outLine, finish } from "./tool-parts/output";
import { base, within, client } from "./tool-parts/files";

const o = new Options("wc", "[-lwmc] [FILE]...", "Counts the newlines, words and bytes of each FILE (standard input when none or -).")
  .flag("l", "lines", "count newlines")
  .flag("w", "words", "count words (runs of characters between blanks)")
  .flag("m", "chars", "count characters")
  .flag("c", "bytes", "count bytes")
  .parse(args());
let lines = o.given("l");
let words = o.given("w");
const chars = o.given("m");
let bytes = o.given("c");
if (!lines && !words && !chars && !bytes) {
  lines = true;
  words = true;
  bytes = true;
}
const files = o.operands.length > 0 ? o.operands : ["-"];

class Counts {
  lines: u64 = 0;
  words: u64 = 0;
  chars: u64 = 0;
  bytes: u64 = 0;
}

function isBlank(c: u8): bool {
  return c == 0x20 || (c >= 0x09 && c <= 0x0d);
}

function count(input: Input): Counts {
  const c = new Counts();
  let inWord = false;
  while (input.chunk()) {
    const at = input.chunkAt;
    for (let i = 0; i < input.chunkLength; i++) {
      const b = load<u8>(at + <usize>i);
      if (b == 0x0a) c.lines++;
      if ((b & 0xc0) != 0x80) c.chars++;
      if (isBlank(b)) inWord = false;
      else if (!inWord) {
        inWord = true;
        c.words++;
      }
    }
    c.bytes += <u64>input.chunkLength;
  }
  return c;
}

// GNU's width: one column alone for one input; else the digits of the files' total size, at
// least 7 when standard input is one of them.
let width = 1;
const columns = (lines ? 1 : 0) + (words ? 1 : 0) + (chars ? 1 : 0) + (bytes ? 1 : 0);
if (!(columns == 1 && files.length == 1)) {
  let total: u64 = 0;
  let stdin = false;
  const fs = client();
  for (let i = 0; i < files.length; i++) {
    if (files[i] == "-") {
      stdin = true;
      continue;
    }
    const h = fs.open(base(files[i]), within(files[i]), FS_RIGHT_READ);
    if (h < 0) continue;
    total += fs.size;
    fs.close(h);
  }
  width = max(total.toString().length, stdin ? 7 : 1);
}

function line(c: Counts, name: string): string {
  const parts = new Array<string>();
  if (lines) parts.push(c.lines.toString().padStart(width));
  if (words) parts.push(c.words.toString().padStart(width));
  if (chars) parts.push(c.chars.toString().padStart(width));
  if (bytes) parts.push(c.bytes.toString().padStart(width));
  return parts.join(" ") + (name.length > 0 ? " " + name : "");
}

const total = new Counts();
let failed = false;
for (let i = 0; i < files.length; i++) {
  const input = new Input(files[i]);
  if (input.failed("wc")) {
    failed = true;
    continue;
  }
  const c = count(input);
  input.close();
  total.lines += c.lines;
  total.words += c.words;
  total.chars += c.chars;
  total.bytes += c.bytes;
  outLine(line(c, files[i] == "-" ? (o.operands.length > 0 ? "-" : "") : input.name));
}
if (files.length > 1) outLine(line(total, "total"));
finish(failed ? 1 : 0);
