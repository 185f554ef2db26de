// dirname NAME...: each NAME without its last name, as POSIX says ("." when there is no directory).
import { args, writeBytes, STDOUT, exit } from "../lib";
import { Options } from "../lib/options";

const o = new Options("dirname", "NAME...", "Prints each NAME without its last name: the directory it is in.")
  .flag("z", "zero", "end each name with a zero byte, not a newline")
  .parse(args());
if (o.operands.length == 0) o.usageError("missing operand");

function dirname(name: string): string {
  let end = name.length;
  while (end > 1 && name.charAt(end - 1) == "/") end--;
  const s = name.slice(0, end);
  const slash = s.lastIndexOf("/");
  if (slash < 0) return ".";
  let cut = slash;
  while (cut > 0 && s.charAt(cut - 1) == "/") cut--;
  return cut == 0 ? "/" : s.slice(0, cut);
}

let text = "";
for (let i = 0; i < o.operands.length; i++) text += dirname(o.operands[i]) + (o.given("z") ? "\0" : "\n");
const bytes = String.UTF8.encode(text);
writeBytes(STDOUT, changetype<usize>(bytes), bytes.byteLength);
exit(0);
