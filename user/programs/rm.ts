// rm PATH...: removes each file, or empty directory.
import { args, eprint, exit } from "../lib";
import { base, within, client, complain, workingDirectory } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";

const argv = args();
if (argv.length < 2) {
  eprint("usage: rm PATH...");
  exit(2);
}
workingDirectory("rm");
const fs = client();
let failed = false;
for (let i = 1; i < argv.length; i++) {
  const status = fs.unlink(base(argv[i]), within(argv[i]));
  if (status < 0) {
    complain("rm", visible(argv[i]), status);
    failed = true;
  }
}
exit(failed ? 1 : 0);
