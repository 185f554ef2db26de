// cat [-n] [FILE]...: copies each FILE (standard input when none, or -) to standard output; -n
// numbers the lines.
import { args, read, writeBytes, eprint, statusText, exit, STDOUT } from "../lib";
import { Options } from "../lib/options";
import { Input } from "./tool-parts/input";
import { out, outBytes, finish } from "./tool-parts/output";

const o = new Options("cat", "[-n] [FILE]...", "Copies each FILE (standard input when none or -) to standard output.")
  .flag("n", "number", "number every line")
  .parse(args());
const files = o.operands.length > 0 ? o.operands : ["-"];
const numbered = o.given("n");

// Standard input alone, as it comes (a terminal's lines show at once), through a small buffer.
if (files.length == 1 && files[0] == "-" && !numbered) {
  const buf = memory.data(256);
  for (;;) {
    const n = read(buf, 252);
    if (n == 0) break;
    if (n < 0) {
      eprint("cat: standard input: " + statusText(n));
      exit(1);
    }
    const w = writeBytes(STDOUT, buf, <usize>n);
    if (w < 0) {
      eprint("cat: write: " + statusText(w));
      exit(1);
    }
  }
  exit(0);
}

let failed = false;
let number = 0;
for (let i = 0; i < files.length; i++) {
  const input = new Input(files[i]);
  if (input.failed("cat")) {
    failed = true;
    continue;
  }
  if (numbered) {
    for (let line = input.line(); line != null; line = input.line()) {
      out((++number).toString().padStart(6) + "\t" + line!);
      if (!input.lastLineUnterminated) out("\n");
    }
  } else while (input.chunk()) outBytes(input.chunkAt, <usize>input.chunkLength);
  if (input.failed("cat")) failed = true;
  input.close();
}
finish(failed ? 1 : 0);
