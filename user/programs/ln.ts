// ln [-s] TARGET NAME: NAME becomes a new name for the file TARGET (a hard link: one file, two
// names, its link count 2), or with -s a symbolic link holding the text TARGET (which may name
// nothing yet; a relative one is looked up from NAME's directory).
import { args, eprint, exit } from "../lib";
import { base, within, client, fail, workingDirectory } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";

const argv = args();
const symbolic = argv.length == 4 && argv[1] == "-s";
if (argv.length != 3 && !symbolic) {
  eprint("usage: ln [-s] TARGET NAME");
  exit(2);
}
workingDirectory("ln");
const target = argv[argv.length - 2];
const name = argv[argv.length - 1];
const fs = client();
const status = symbolic
  ? fs.symlink(base(name), target, within(name))
  : fs.link(base(target), within(target), base(name), within(name));
if (status < 0) fail("ln", visible(name) + (symbolic ? " -> " : " to ") + visible(target), status);
