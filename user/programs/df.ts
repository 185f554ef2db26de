// df [-hic]: each file system the shell can reach (the disk's at /, the host share's at /host):
// its size, what is used and what is free, in KiB blocks (-h in K, M, G; -i its inodes instead;
// -c its caches' memory instead: the page cache and the metadata cache, FS_INFO's words 8-18).
import { args, capKind, KIND_RECEIVER, msgWord, msgWordCount, statusText, eprint } from "../lib";
import { Options } from "../lib/options";
import { SLOT_ROOT, SLOT_HOST, client } from "./tool-parts/files";
import { outLine, finish } from "./tool-parts/output";

const o = new Options("df", "[-hic]", "Prints the size and free space of each file system (/ and /host).")
  .flag("h", "human-readable", "sizes in K, M and G")
  .flag("i", "inodes", "inodes (files, directories, links) instead of blocks")
  .flag("c", "cache", "the memory its caches hold instead (pages of 4 KiB)")
  .parse(args());
if (o.operands.length > 0) o.usageError("no operands are taken ('" + o.operands[0] + "')");
const fs = client();

function shown(kib: u64): string {
  if (!o.given("h")) return kib.toString();
  const units = ["K", "M", "G", "T"];
  let value = <f64>kib;
  let u = 0;
  while (value >= 1024 && u < 3) {
    value /= 1024;
    u++;
  }
  return (value < 10 ? (Math.round(value * 10) / 10).toString() : (<i64>Math.round(value)).toString()) + units[u];
}

const caches = o.given("c");
outLine(caches ? "Filesystem      Cached     Most    Dirty     Hits   Misses Metadata Returned Mounted on" : o.given("i") ? "Filesystem      Inodes   IUsed   IFree IUse% Mounted on" : "Filesystem     " + (o.given("h") ? "  Size" : "1K-blocks") + "     Used Available Use% Mounted on");
let failed = false;

function row(name: string, slot: i32, mounted: string): void {
  if (capKind(slot) != <i32>KIND_RECEIVER) return;
  const status = fs.info(slot);
  if (status < 0) {
    eprint("df: " + mounted + ": " + statusText(status));
    failed = true;
    return;
  }
  const blockBytes = <u64>msgWord(0);
  const blocks = <u64>msgWord(1);
  const free = <u64>msgWord(2);
  const inodes = <u64>msgWord(3);
  const freeInodes = <u64>msgWord(4);
  if (caches) {
    // A server that answers fewer words (the host share) has no caches to show: dashes.
    const words = [8, 16, 10, 11, 12, 17, 18];
    let line = name.padEnd(14);
    for (let i = 0; i < words.length; i++) line += (msgWordCount() > words[i] ? msgWord(words[i]).toString() : "-").padStart(i == 0 ? 8 : 9);
    outLine(line + " " + mounted);
    return;
  }
  if (o.given("i")) {
    const used = inodes - freeInodes;
    const percent = inodes == 0 ? "-" : ((used * 100 + inodes - 1) / inodes).toString() + "%";
    outLine(name.padEnd(14) + inodes.toString().padStart(8) + used.toString().padStart(8) + freeInodes.toString().padStart(8) + percent.padStart(6) + " " + mounted);
    return;
  }
  const size = (blocks * blockBytes) / 1024;
  const available = (free * blockBytes) / 1024;
  const used = size - available;
  const percent = size == 0 ? "-" : ((used * 100 + size - 1) / size).toString() + "%";
  outLine(name.padEnd(14) + shown(size).padStart(10) + shown(used).padStart(9) + shown(available).padStart(10) + percent.padStart(5) + " " + mounted);
}

row("dogma-fs", SLOT_ROOT, "/");
row("host-share", SLOT_HOST, "/host");
finish(failed ? 1 : 0);
