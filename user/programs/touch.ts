// touch [-c] [-am] [-d @SECONDS] FILE...: makes each FILE that does not exist (empty; not with -c)
// and sets its access and modification times to now (or to SECONDS since 1970); -a or -m only that one.
import { args, wallClock, exit } from "../lib";
import { Options, parseCount } from "../lib/options";
import { FS_RIGHT_READ, FS_RIGHT_TIMES, FS_OPEN_CREATE, FS_TIMES_ACCESS, FS_TIMES_MODIFY, FS_E_NOT_FOUND } from "../lib/fs-client";
import { base, within, client, complain, workingDirectory } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";

const o = new Options("touch", "[-c] [-am] [-d @SECONDS] FILE...", "Makes each FILE that does not exist, empty, and sets its times to now.")
  .flag("c", "no-create", "do not make FILEs that do not exist")
  .flag("a", "", "change only the access time")
  .flag("m", "", "change only the modification time")
  .value("d", "date", "@SECONDS", "use this time (seconds since 1970) instead of now")
  .parse(args());
if (o.operands.length == 0) o.usageError("missing file operand");
workingDirectory("touch");
let when = wallClock();
if (o.given("d")) {
  const text = o.get("d");
  const seconds = text.startsWith("@") ? parseCount(text.slice(1)) : -1;
  if (seconds < 0) o.usageError("invalid date format '" + text + "' (only @SECONDS)");
  when = seconds * 1_000_000_000;
}
let flags: u32 = 0;
if (!o.given("m")) flags |= FS_TIMES_ACCESS;
if (!o.given("a")) flags |= FS_TIMES_MODIFY;
const fs = client();
let failed = false;
for (let i = 0; i < o.operands.length; i++) {
  const path = o.operands[i];
  if (o.given("c")) {
    // -c: a name that is not there is left so, whatever else would be refused.
    const there = fs.open(base(path), within(path), FS_RIGHT_READ);
    if (there == FS_E_NOT_FOUND) continue;
    if (there >= 0) fs.close(there);
  }
  const h = fs.open(base(path), within(path), FS_RIGHT_READ | FS_RIGHT_TIMES | (o.given("c") ? 0 : FS_OPEN_CREATE));
  if (h < 0) {
    if (h == FS_E_NOT_FOUND && o.given("c")) continue;
    complain("touch", visible(path), h);
    failed = true;
    continue;
  }
  const status = fs.setTimes(h, flags, when, when);
  if (status < 0) {
    complain("touch", visible(path), status);
    failed = true;
  }
  fs.sync(h);
  fs.close(h);
}
exit(failed ? 1 : 0);
