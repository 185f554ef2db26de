// mkdir [-pv] DIR...: makes each directory; -p makes the directories above it that are missing
// too, and is content when it exists.
import { args, exit } from "../lib";
import { Options } from "../lib/options";
import { FS_RIGHT_READ, FS_KIND_DIR, FS_E_EXISTS } from "../lib/fs-client";
import { base, within, client, complain, workingDirectory } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";
import { outLine, flush } from "./tool-parts/output";

const o = new Options("mkdir", "[-pv] DIR...", "Makes each directory DIR.")
  .flag("p", "parents", "make missing directories above it too; no error if it exists")
  .flag("v", "verbose", "say what is made")
  .parse(args());
if (o.operands.length == 0) o.usageError("missing operand");
workingDirectory("mkdir");
const fs = client();
let failed = false;

function isDirectory(path: string): bool {
  const h = fs.open(base(path), within(path), FS_RIGHT_READ);
  if (h < 0) return false;
  const dir = fs.kind == FS_KIND_DIR;
  fs.close(h);
  return dir;
}

function make(path: string, parents: bool): bool {
  const status = fs.mkdir(base(path), within(path));
  if (status == FS_E_EXISTS && parents && isDirectory(path)) return true;
  if (status < 0) {
    complain("mkdir", visible(path), status);
    return false;
  }
  if (o.given("v")) outLine("mkdir: created directory '" + visible(path) + "'");
  return true;
}

for (let i = 0; i < o.operands.length; i++) {
  const path = o.operands[i];
  if (!o.given("p")) {
    if (!make(path, false)) failed = true;
    continue;
  }
  // Each directory on the way, from the first.
  const parts = path.split("/");
  let so = path.startsWith("/") ? "/" : "";
  let ok = true;
  for (let k = 0; k < parts.length && ok; k++) {
    if (parts[k].length == 0 || parts[k] == ".") continue;
    so = so.length == 0 || so.endsWith("/") ? so + parts[k] : so + "/" + parts[k];
    if (parts[k] == "..") continue;
    ok = make(so, true);
  }
  if (!ok) failed = true;
}
flush();
exit(failed ? 1 : 0);
