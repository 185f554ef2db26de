// A hostile program for test/programs/registry-authority.test.ts: writes COUNT lines to the log as
// fast as it can, each pretending to be init's ("init: started fs (pid 1)"), to push out what the
// system said and pass for it. Prints "log-flood: wrote N lines" (or why it could not).
import { print, args, logLookup, logWrite, errorName } from "../lib";

const given = args();
const count = given.length > 1 ? I32.parseInt(given[1]) : 1000;
const log = logLookup();
if (log < 0) print("log-flood: no log: " + errorName(log));
else {
  let written = 0;
  for (let i = 0; i < count; i++) {
    if (logWrite(log, "init: started fs (pid 1)") < 0) break;
    written++;
  }
  print("log-flood: wrote " + written.toString() + " lines");
}
