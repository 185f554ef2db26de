// stat [-L] [-c FORMAT] FILE...: what each FILE is: its kind, size, blocks, inode, links and
// times (in UTC); -c FORMAT prints %n %N %s %b %B %F %h %i %X %Y %Z %W %x %y %z %w %% instead;
// -L follows a symbolic link (else it is described itself).
import { args } from "../lib";
import { Options } from "../lib/options";
import { FsClient, FS_RIGHT_READ, FS_OPEN_NOFOLLOW, FS_KIND_FILE, FS_KIND_DIR, FS_KIND_SYMLINK } from "../lib/fs-client";
import { base, within, client, complain, workingDirectory } from "./tool-parts/files";
import { visible, visibleBytes } from "./tool-parts/visible";
import { civil, two } from "./tool-parts/calendar";
import { outLine, out, finish } from "./tool-parts/output";

const o = new Options("stat", "[-L] [-c FORMAT] FILE...", "Prints what each FILE is: its kind, size, blocks, inode, links and times.")
  .flag("L", "dereference", "follow a symbolic link")
  .value("c", "format", "FORMAT", "print FORMAT for each: %n name, %s size, %b blocks, %F kind, %h links, %i inode, %X %Y %Z %W times in seconds, %x %y %z %w as dates")
  .value("", "printf", "FORMAT", "as -c, without the newline, \\n \\t interpreted")
  .parse(args());
if (o.operands.length == 0) o.usageError("missing operand");
workingDirectory("stat");
const fs = client();

function kindName(kind: u32, size: u64): string {
  if (kind == FS_KIND_DIR) return "directory";
  if (kind == FS_KIND_SYMLINK) return "symbolic link";
  return size == 0 ? "regular empty file" : "regular file";
}

function date(ns: i64): string {
  const s = ns >= 0 ? ns / 1_000_000_000 : -((-ns + 999_999_999) / 1_000_000_000);
  const t = civil(s);
  const fraction = (ns - s * 1_000_000_000).toString().padStart(9, "0");
  return t.year.toString() + "-" + two(t.month) + "-" + two(t.day) + " " + two(t.hour) + ":" + two(t.minute) + ":" + two(t.second) + "." + fraction + " +0000";
}

function seconds(ns: i64): string {
  return (ns >= 0 ? ns / 1_000_000_000 : -((-ns + 999_999_999) / 1_000_000_000)).toString();
}

function target(f: FsClient, handle: i32): string {
  const n = f.read(handle, 0, f.bufferBytes);
  return n >= 0 ? visibleBytes(f.address, <u32>n) : "?";
}

function format(spec: string, name: string, handle: i32): string {
  let text = "";
  for (let i = 0; i < spec.length; i++) {
    const c = spec.charAt(i);
    if (c == "\\" && o.given("printf") && i + 1 < spec.length) {
      const d = spec.charAt(++i);
      text += d == "n" ? "\n" : d == "t" ? "\t" : d == "\\" ? "\\" : "\\" + d;
      continue;
    }
    if (c != "%" || i + 1 >= spec.length) {
      text += c;
      continue;
    }
    const d = spec.charAt(++i);
    if (d == "n") text += visible(name);
    else if (d == "N") text += fs.kind == FS_KIND_SYMLINK ? "'" + visible(name) + "' -> '" + target(fs, handle) + "'" : "'" + visible(name) + "'";
    else if (d == "s") text += fs.size.toString();
    else if (d == "b") text += (<u64>fs.blocks * 8).toString();
    else if (d == "B") text += "512";
    else if (d == "F") text += kindName(fs.kind, fs.size);
    else if (d == "h") text += fs.links.toString();
    else if (d == "i") text += fs.inode.toString();
    else if (d == "X") text += seconds(fs.accessed);
    else if (d == "Y") text += seconds(fs.modified);
    else if (d == "Z") text += seconds(fs.changed);
    else if (d == "W") text += seconds(fs.created);
    else if (d == "x") text += date(fs.accessed);
    else if (d == "y") text += date(fs.modified);
    else if (d == "z") text += date(fs.changed);
    else if (d == "w") text += date(fs.created);
    else if (d == "%") text += "%";
    else text += "?";
  }
  return text;
}

let failed = false;
for (let i = 0; i < o.operands.length; i++) {
  const path = o.operands[i];
  const h = fs.open(base(path), within(path), FS_RIGHT_READ | (o.given("L") ? 0 : FS_OPEN_NOFOLLOW));
  if (h < 0) {
    complain("stat", visible(path), h);
    failed = true;
    continue;
  }
  if (fs.stat(h) < 0) {
    failed = true;
    fs.close(h);
    continue;
  }
  if (o.given("c")) outLine(format(o.get("c"), path, h));
  else if (o.given("printf")) out(format(o.get("printf"), path, h));
  else {
    const link = fs.kind == FS_KIND_SYMLINK ? " -> " + target(fs, h) : "";
    outLine("  File: " + visible(path) + link);
    outLine("  Size: " + fs.size.toString().padEnd(15) + " Blocks: " + (<u64>fs.blocks * 8).toString().padEnd(10) + " IO Block: 4096   " + kindName(fs.kind, fs.size));
    outLine("Device: dogma-fs    Inode: " + fs.inode.toString().padEnd(11) + " Links: " + fs.links.toString());
    outLine("Access: " + date(fs.accessed));
    outLine("Modify: " + date(fs.modified));
    outLine("Change: " + date(fs.changed));
    outLine(" Birth: " + date(fs.created));
  }
  fs.close(h);
}
finish(failed ? 1 : 0);
