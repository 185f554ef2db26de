// mv FROM TO: renames (or moves) FROM to TO; a file TO is replaced.
import { args, eprint, exit } from "../lib";
import { base, within, isHostPath, client, fail, workingDirectory } from "./tool-parts/files";

const argv = args();
if (argv.length != 3) {
  eprint("usage: mv FROM TO");
  exit(2);
}
workingDirectory("mv");
// A rename happens within one directory capability: both paths from the root if either is absolute.
// The host share is read-only: a rename there is refused by its server (E_MISSING_RIGHT).
const host = isHostPath(argv[1]) || isHostPath(argv[2]);
const absolute = argv[1].startsWith("/") || argv[2].startsWith("/");
const status = host
  ? client().rename(base("/host"), within(argv[1]), within(argv[2]))
  : client().rename(base(absolute ? "/" : "."), argv[1], argv[2]);
if (status < 0) fail("mv", argv[1] + " to " + argv[2], status);
