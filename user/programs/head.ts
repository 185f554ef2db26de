// head [-n LINES | -c BYTES] [-q | -v] [FILE]...: the first 10 lines (or LINES, or BYTES bytes)
// of each FILE, standard input when none; with several files, each under a "==> NAME <==" header.
import { args } from "../lib";
import { Options } from "../lib/options";
import { Input } from "./tool-parts/input";
import { out, outLine, outBytes, finish } from "./tool-parts/output";

// `head -5` is `head -n 5`, as it always was.
const argv = args();
if (argv.length > 1 && argv[1].length > 1 && argv[1].startsWith("-") && argv[1].charCodeAt(1) >= 0x30 && argv[1].charCodeAt(1) <= 0x39) {
  // -5 becomes -n 5: the rest of the arguments move up one.
  const value = args()[1].slice(1);
  argv.push("");
  for (let i = argv.length - 1; i > 2; i--) argv[i] = argv[i - 1];
  argv[1] = "-n";
  argv[2] = value;
}
const o = new Options("head", "[-n LINES | -c BYTES] [FILE]...", "Prints the first 10 lines of each FILE (standard input when none or -).")
  .value("n", "lines", "LINES", "print the first LINES lines")
  .value("c", "bytes", "BYTES", "print the first BYTES bytes")
  .flag("q", "quiet", "never print a header naming the file")
  .flag("v", "verbose", "always print one")
  .parse(argv);
const lines = o.number("n", 10);
const bytes = o.given("c") ? o.number("c", 0) : -1;
const files = o.operands.length > 0 ? o.operands : ["-"];
const headers = o.given("v") || (files.length > 1 && !o.given("q"));
let failed = false;
for (let i = 0; i < files.length; i++) {
  const input = new Input(files[i]);
  if (input.failed("head")) {
    failed = true;
    continue;
  }
  if (headers) outLine((i > 0 ? "\n" : "") + "==> " + (files[i] == "-" ? "standard input" : input.name) + " <==");
  if (bytes >= 0) {
    let left = bytes;
    while (left > 0 && input.chunk()) {
      const n = min(<i64>input.chunkLength, left);
      outBytes(input.chunkAt, <usize>n);
      left -= n;
    }
  } else {
    for (let n: i64 = 0; n < lines; n++) {
      const line = input.line();
      if (line == null) break;
      out(line!);
      if (!input.lastLineUnterminated) out("\n");
    }
  }
  if (input.failed("head")) failed = true;
  input.close();
}
finish(failed ? 1 : 0);
