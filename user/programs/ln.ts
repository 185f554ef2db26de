// ln [-s] TARGET NAME: NAME becomes a new name for the file TARGET (a hard link: one file, two
// names, its link count 2), or with -s a symbolic link holding the text TARGET (which may name
// nothing yet; a relative one is looked up from NAME's directory).
import { args } from "../lib";
import { Options } from "../lib/options";
import { base, within, client, fail, workingDirectory } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";

const o = new Options("ln", "[-s] TARGET NAME", "Makes NAME another name for TARGET (a hard link), or with -s a symbolic link to it.")
  .flag("s", "symbolic", "a symbolic link holding TARGET's text")
  .parse(args());
if (o.operands.length != 2) o.usageError(o.operands.length < 2 ? "missing operand" : "extra operand '" + o.operands[2] + "'");
workingDirectory("ln");
const symbolic = o.given("s");
const target = o.operands[0];
const name = o.operands[1];
const fs = client();
const status = symbolic
  ? fs.symlink(base(name), target, within(name))
  : fs.link(base(target), within(target), base(name), within(name));
if (status < 0) fail("ln", visible(name) + (symbolic ? " -> " : " to ") + visible(target), status);
