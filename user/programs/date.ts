// date [-u] [-d @SECONDS] [+FORMAT]: the time now (or SECONDS since 1970), in UTC, as GNU date
// writes it ("Tue Mar  4 13:45:02 UTC 2025"), or as FORMAT says: %Y %m %d %e %H %M %S %j %a %A
// %b %B %h %y %C %s %N %Z %z %T %D %F %R %u %w %n %t %%.
import { args, wallClock, print, exit } from "../lib";
import { Options } from "../lib/options";
import { civil, two, DAY_NAMES, MONTH_NAMES } from "./tool-parts/calendar";

const o = new Options("date", "[-u] [-d @SECONDS] [+FORMAT]", "Prints the date and time (UTC: the machine has no time zones).")
  .flag("u", "utc", "in UTC (always)")
  .value("d", "date", "@SECONDS", "the time SECONDS after 1970 instead of now")
  .parse(args());
let ns = wallClock();
if (o.given("d")) {
  const text = o.get("d");
  let valid = text.startsWith("@") && text.length > 1;
  for (let i = 1; i < text.length; i++) if (text.charCodeAt(i) < 0x30 || text.charCodeAt(i) > 0x39) valid = text.charAt(i) == "-" && i == 1 && valid;
  if (!valid) o.usageError("invalid date '" + text + "' (only @SECONDS)");
  ns = I64.parseInt(text.slice(1)) * 1_000_000_000;
}
let format = "%a %b %e %H:%M:%S %Z %Y";
for (let i = 0; i < o.operands.length; i++) {
  if (!o.operands[i].startsWith("+")) o.usageError("invalid date '" + o.operands[i] + "'");
  format = o.operands[i].slice(1);
}
const seconds = ns >= 0 ? ns / 1_000_000_000 : -((-ns + 999_999_999) / 1_000_000_000);
const t = civil(seconds);

let text = "";
for (let i = 0; i < format.length; i++) {
  const c = format.charAt(i);
  if (c != "%" || i + 1 >= format.length) {
    text += c;
    continue;
  }
  const d = format.charAt(++i);
  if (d == "Y") text += t.year.toString();
  else if (d == "m") text += two(t.month);
  else if (d == "d") text += two(t.day);
  else if (d == "e") text += t.day.toString().padStart(2);
  else if (d == "H") text += two(t.hour);
  else if (d == "M") text += two(t.minute);
  else if (d == "S") text += two(t.second);
  else if (d == "j") text += t.yearDay.toString().padStart(3, "0");
  else if (d == "a") text += DAY_NAMES[t.weekday].slice(0, 3);
  else if (d == "A") text += DAY_NAMES[t.weekday];
  else if (d == "b" || d == "h") text += MONTH_NAMES[t.month - 1].slice(0, 3);
  else if (d == "B") text += MONTH_NAMES[t.month - 1];
  else if (d == "y") text += two(t.year % 100);
  else if (d == "C") text += two(t.year / 100);
  else if (d == "s") text += seconds.toString();
  else if (d == "N") text += (ns % 1_000_000_000).toString().padStart(9, "0");
  else if (d == "Z") text += "UTC";
  else if (d == "z") text += "+0000";
  else if (d == "T") text += two(t.hour) + ":" + two(t.minute) + ":" + two(t.second);
  else if (d == "R") text += two(t.hour) + ":" + two(t.minute);
  else if (d == "D") text += two(t.month) + "/" + two(t.day) + "/" + two(t.year % 100);
  else if (d == "F") text += t.year.toString() + "-" + two(t.month) + "-" + two(t.day);
  else if (d == "u") text += (t.weekday == 0 ? 7 : t.weekday).toString();
  else if (d == "w") text += t.weekday.toString();
  else if (d == "n") text += "\n";
  else if (d == "t") text += "\t";
  else if (d == "%") text += "%";
  else text += "%" + d;
}
print(text);
exit(0);
