// dogma:runtime incremental
// uniq [-cdui] [INPUT [OUTPUT]]: each run of equal adjacent lines of INPUT (standard input when
// none, or -) once, to OUTPUT (standard output when none); -c with how many, -d only runs of
// more than one, -u only lines alone, -i comparing without case.
import { args } from "../lib";
import { Options } from "../lib/options";
import { FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_TRUNCATE } from "../lib/fs-client";
import { Input } from "./tool-parts/input";
import { outLine, finish, flush } from "./tool-parts/output";
import { base, within, client, complain } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";

const o = new Options("uniq", "[-cdui] [INPUT [OUTPUT]]", "Prints each run of equal adjacent lines once.")
  .flag("c", "count", "put how many times each came before it")
  .flag("d", "repeated", "only lines that came more than once in a row")
  .flag("u", "unique", "only lines that came once")
  .flag("i", "ignore-case", "compare without case")
  .parse(args());
if (o.operands.length > 2) o.usageError("extra operand '" + o.operands[2] + "'");
const counting = o.given("c");
const repeated = o.given("d");
const alone = o.given("u");
const fold = o.given("i");

const input = new Input(o.operands.length > 0 ? o.operands[0] : "-");
if (input.failed("uniq")) finish(1);

let lines = new Array<string>();
let previous: string | null = null;
let run = 0;

function emit(line: string, n: i32): void {
  if (repeated && n < 2) return;
  if (alone && n > 1) return;
  lines.push(counting ? n.toString().padStart(7) + " " + line : line);
}

function same(a: string, b: string): bool {
  return fold ? a.toLowerCase() == b.toLowerCase() : a == b;
}

for (let line = input.line(); line != null; line = input.line()) {
  if (previous != null && same(previous!, line!)) {
    run++;
    continue;
  }
  if (previous != null) emit(previous!, run);
  previous = line;
  run = 1;
}
if (previous != null) emit(previous!, run);
input.close();

if (o.operands.length == 2) {
  const path = o.operands[1];
  const fs = client();
  const h = fs.open(base(path), within(path), FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE);
  if (h < 0) {
    complain("uniq", visible(path), h);
    finish(1);
  }
  const bytes = String.UTF8.encode(lines.length > 0 ? lines.join("\n") + "\n" : "");
  let offset: u64 = 0;
  const total = <u64>bytes.byteLength;
  while (offset < total) {
    const n = <u32>min(<u64>fs.bufferBytes, total - offset);
    if (fs.prepare() < 0) break;
    memory.copy(fs.address, changetype<usize>(bytes) + <usize>offset, <usize>n);
    const w = fs.write(h, offset, n);
    if (w < 0) {
      complain("uniq", visible(path), w);
      finish(1);
    }
    offset += <u64>n;
  }
  fs.sync(h);
  fs.close(h);
  finish(0);
}
for (let i = 0; i < lines.length; i++) outLine(lines[i]);
flush();
finish(0);
