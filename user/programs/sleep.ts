// sleep NUMBER[smhd]...: waits that long (the sum of the arguments; a number may have a fraction:
// 0.5, 1.5m).
import { args, sleep, exit } from "../lib";
import { Options } from "../lib/options";

const o = new Options("sleep", "NUMBER[smhd]...", "Waits NUMBER seconds (s, or m minutes, h hours, d days), the sum of them all.").parse(args());
if (o.operands.length == 0) o.usageError("missing operand");
let total: f64 = 0;
for (let i = 0; i < o.operands.length; i++) {
  let text = o.operands[i];
  let unit: f64 = 1;
  const last = text.length > 0 ? text.charAt(text.length - 1) : "";
  if (last == "s" || last == "m" || last == "h" || last == "d") {
    unit = last == "s" ? 1 : last == "m" ? 60 : last == "h" ? 3600 : 86400;
    text = text.slice(0, text.length - 1);
  }
  let valid = text.length > 0;
  let dots = 0;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c == 0x2e) dots++;
    else if (c < 0x30 || c > 0x39) valid = false;
  }
  if (!valid || dots > 1 || text == ".") o.usageError("invalid time interval '" + o.operands[i] + "'");
  total += F64.parseFloat(text) * unit;
}
sleep(<i64>(total * 1e9));
exit(0);
