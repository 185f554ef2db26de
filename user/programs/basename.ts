// basename NAME [SUFFIX] | basename -a [-s SUFFIX] NAME...: NAME without the directories before
// its last name (and without SUFFIX), as POSIX says.
import { args, exit, writeBytes, STDOUT } from "../lib";
import { Options } from "../lib/options";

const o = new Options("basename", "NAME [SUFFIX] | -a [-s SUFFIX] NAME...", "Prints NAME without its leading directories (and without SUFFIX).")
  .flag("a", "multiple", "every operand is a NAME")
  .value("s", "suffix", "SUFFIX", "take SUFFIX off too (implies -a)")
  .flag("z", "zero", "end each name with a zero byte, not a newline")
  .parse(args());
if (o.operands.length == 0) o.usageError("missing operand");
const multiple = o.given("a") || o.given("s");
if (!multiple && o.operands.length > 2) o.usageError("extra operand '" + o.operands[2] + "'");
const suffix = o.given("s") ? o.get("s") : !multiple && o.operands.length == 2 ? o.operands[1] : "";

function basename(name: string): string {
  let end = name.length;
  while (end > 1 && name.charAt(end - 1) == "/") end--;
  let s = name.slice(0, end);
  if (s == "/") return "/";
  s = s.slice(s.lastIndexOf("/") + 1);
  if (suffix.length > 0 && s.length > suffix.length && s.endsWith(suffix)) s = s.slice(0, s.length - suffix.length);
  return s;
}

const names = multiple ? o.operands : [o.operands[0]];
let text = "";
for (let i = 0; i < names.length; i++) text += basename(names[i]) + (o.given("z") ? "\0" : "\n");
const bytes = String.UTF8.encode(text);
writeBytes(STDOUT, changetype<usize>(bytes), bytes.byteLength);
exit(0);
