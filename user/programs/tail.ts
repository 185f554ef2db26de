// dogma:runtime incremental
// tail [-n [+]LINES | -c [+]BYTES] [-f] [FILE]...: the last 10 lines (or LINES, or from line
// +LINES on; or bytes) of each FILE, standard input when none; -f then waits for the file to grow
// and prints what is added (^C ends it).
import { args, sleep, statusText, eprint } from "../lib";
import { Options, parseCount } from "../lib/options";
import { FS_RIGHT_READ } from "../lib/fs-client";
import { Input } from "./tool-parts/input";
import { out, outLine, outBytes, flush, finish } from "./tool-parts/output";
import { base, within, client } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";

const argv = args();
if (argv.length > 1 && argv[1].length > 1 && (argv[1].startsWith("-") || argv[1].startsWith("+")) && argv[1].charCodeAt(1) >= 0x30 && argv[1].charCodeAt(1) <= 0x39) {
  const count = argv[1].startsWith("+") ? argv[1] : argv[1].slice(1);
  // -5 becomes -n 5: the rest of the arguments move up one.
  const value = count;
  argv.push("");
  for (let i = argv.length - 1; i > 2; i--) argv[i] = argv[i - 1];
  argv[1] = "-n";
  argv[2] = value;
}
const o = new Options("tail", "[-n [+]LINES | -c [+]BYTES] [-f] [FILE]...", "Prints the last 10 lines of each FILE (standard input when none or -).")
  .value("n", "lines", "[+]LINES", "the last LINES lines; +LINES: from line LINES on")
  .value("c", "bytes", "[+]BYTES", "the last BYTES bytes; +BYTES: from byte BYTES on")
  .flag("f", "follow", "then wait for the file to grow, and print what is added")
  .flag("q", "quiet", "never print a header naming the file")
  .flag("v", "verbose", "always print one")
  .parse(argv);

/** -n and -c's value: a count, and whether it counts from the start (+N). */
let fromStart = false;
function count(key: string, otherwise: i64): i64 {
  if (!o.given(key)) return otherwise;
  let text = o.get(key);
  if (text.startsWith("+")) {
    fromStart = true;
    text = text.slice(1);
  }
  const n = parseCount(text);
  if (n < 0) o.usageError("invalid number: '" + o.get(key) + "'");
  return n;
}
const byBytes = o.given("c");
const n = byBytes ? count("c", 10) : count("n", 10);
const files = o.operands.length > 0 ? o.operands : ["-"];
const headers = o.given("v") || (files.length > 1 && !o.given("q"));
let failed = false;

/** The last `n` lines (or from line n) of `input`. */
function lastLines(input: Input): void {
  if (fromStart) {
    let number: i64 = 0;
    for (let line = input.line(); line != null; line = input.line()) {
      number++;
      if (number < n) continue;
      out(line!);
      if (!input.lastLineUnterminated) out("\n");
    }
    return;
  }
  const ring = new Array<string>();
  let unterminated = false;
  for (let line = input.line(); line != null; line = input.line()) {
    ring.push(line!);
    if (<i64>ring.length > n) ring.shift();
    unterminated = input.lastLineUnterminated;
  }
  for (let i = 0; i < ring.length; i++) {
    out(ring[i]);
    if (i + 1 < ring.length || !unterminated) out("\n");
  }
}

function lastBytes(input: Input): void {
  let all = new Uint8Array(4096);
  let length = 0;
  while (input.chunk()) {
    if (length + input.chunkLength > all.length) {
      const bigger = new Uint8Array(max(all.length * 2, length + input.chunkLength));
      memory.copy(bigger.dataStart, all.dataStart, <usize>length);
      all = bigger;
    }
    memory.copy(all.dataStart + <usize>length, input.chunkAt, <usize>input.chunkLength);
    length += input.chunkLength;
  }
  const from = fromStart ? <i32>min<i64>(max<i64>(n - 1, 0), length) : max(length - <i32>min<i64>(n, length), 0);
  outBytes(all.dataStart + <usize>from, <usize>(length - from));
}

for (let i = 0; i < files.length; i++) {
  const input = new Input(files[i]);
  if (input.failed("tail")) {
    failed = true;
    continue;
  }
  if (headers) outLine((i > 0 ? "\n" : "") + "==> " + (files[i] == "-" ? "standard input" : input.name) + " <==");
  if (byBytes) lastBytes(input);
  else lastLines(input);
  input.close();
}
flush();

// -f: the last file named, looked at every 200 ms; what is added is printed as it comes.
if (o.given("f") && files[files.length - 1] != "-" && !failed) {
  const path = files[files.length - 1];
  const fs = client();
  const handle = fs.open(base(path), within(path), FS_RIGHT_READ);
  if (handle < 0) {
    eprint("tail: " + visible(path) + ": " + statusText(handle));
    finish(1);
  }
  let offset = fs.size;
  for (;;) {
    if (fs.stat(handle) < 0) finish(1);
    if (fs.size < offset) offset = 0; // it was emptied: from its start again
    while (fs.size > offset) {
      const got = fs.read(handle, offset, fs.bufferBytes);
      if (got <= 0) break;
      outBytes(fs.address, <usize>got);
      offset += <u64>got;
    }
    flush();
    sleep(200_000_000);
  }
}
finish(failed ? 1 : 0);
