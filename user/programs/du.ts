// du [-abhs] [-d N] [PATH...]: the disk space each PATH (. when none) uses, and every directory
// under it: in KiB of the 4 KiB blocks it holds (rounded up), or -b its bytes (--apparent-size);
// -s only the total of each PATH, -a every file too, -h in K, M, G.
import { args, eprint, statusText } from "../lib";
import { Options } from "../lib/options";
import { FS_RIGHT_READ, FS_OPEN_NOFOLLOW, FS_KIND_DIR } from "../lib/fs-client";
import { base, within, client, workingDirectory } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";
import { entries, join, lastStatus } from "./tool-parts/walk";
import { outLine, finish } from "./tool-parts/output";

const o = new Options("du", "[-abhs] [-d N] [PATH...]", "Prints the disk space each PATH (. when none) and the directories under it use, in KiB.")
  .flag("a", "all", "every file too, not only directories")
  .flag("b", "bytes", "bytes the files hold (--apparent-size), not the blocks they use")
  .flag("", "apparent-size", "as -b, in KiB")
  .flag("h", "human-readable", "sizes in K, M and G")
  .flag("s", "summarize", "only each PATH's total")
  .value("d", "max-depth", "N", "print directories only N levels below a PATH")
  .parse(args());
workingDirectory("du");
const bytesMode = o.given("b");
const apparent = bytesMode || o.given("apparent-size");
const human = o.given("h");
const all = o.given("a");
const summary = o.given("s");
const maxDepth = o.given("d") ? o.number("d", 0) : -1;
const fs = client();
let failed = false;

function shown(bytes: u64): string {
  if (human) {
    if (bytes < 1024) return bytes.toString();
    const units = ["K", "M", "G", "T"];
    let value = <f64>bytes / 1024;
    let u = 0;
    while (value >= 1024 && u < 3) {
      value /= 1024;
      u++;
    }
    // GNU rounds up, to one decimal below 10.
    if (value < 10) {
      const tenths = Math.ceil(value * 10) / 10;
      return (tenths >= 10 ? Math.ceil(tenths).toString() : tenths.toString().slice(0, 3)) + units[u];
    }
    return (<i64>Math.ceil(value)).toString() + units[u];
  }
  if (bytesMode) return bytes.toString();
  return ((bytes + 1023) / 1024).toString();
}

/** The space under `path`, printing directories (and files with -a) within the depth. */
function usage(path: string, depth: i32): u64 {
  const h = fs.open(base(path), within(path), FS_RIGHT_READ | FS_OPEN_NOFOLLOW);
  if (h < 0) {
    eprint("du: " + visible(path) + ": " + statusText(h));
    failed = true;
    return 0;
  }
  fs.stat(h);
  const kind = fs.kind;
  let total: u64 = apparent ? fs.size : <u64>fs.blocks * 4096;
  fs.close(h);
  if (kind == FS_KIND_DIR) {
    const list = entries(fs, path);
    if (list == null) {
      eprint("du: " + visible(path) + ": " + statusText(lastStatus));
      failed = true;
    } else for (let i = 0; i < list!.length; i++) total += usage(join(path, list![i].name), depth + 1);
  }
  const inDepth = maxDepth < 0 || <i64>depth <= maxDepth;
  if ((depth == 0 || (!summary && inDepth && (kind == FS_KIND_DIR || all)))) outLine(shown(total) + "\t" + visible(path));
  return total;
}

const paths = o.operands.length > 0 ? o.operands : ["."];
for (let i = 0; i < paths.length; i++) usage(paths[i], 0);
finish(failed ? 1 : 0);
