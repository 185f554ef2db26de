// logger [-e] MESSAGE...: writes MESSAGE to the system's log (what dmesg shows; -e as an error,
// which the console shows too), as Unix's logger sends one to syslog.
import { args, exit, logLookup, logWrite, fail } from "../lib";
import { Options } from "../lib/options";

const o = new Options("logger", "[-e] MESSAGE...", "Writes MESSAGE to the system's log (dmesg shows it).")
  .flag("e", "error", "as an error: the console shows it too")
  .parse(args());
if (o.operands.length == 0) o.usageError("missing message");
const log = logLookup();
if (log < 0) fail("logger", "the log service", log);
const status = logWrite(log, o.operands.join(" "), o.given("e"));
if (status < 0) fail("logger", "writing to the log", status);
exit(0);
