// tee [-a] [FILE]...: copies standard input to standard output and to each FILE (made, or emptied;
// added to with -a), as it comes.
import { args, read, writeBytes, STDOUT, exit } from "../lib";
import { Options } from "../lib/options";
import { FS_RIGHT_WRITE, FS_RIGHT_APPEND, FS_OPEN_CREATE, FS_OPEN_TRUNCATE } from "../lib/fs-client";
import { streamWrite } from "../lib/streams";
import { base, within, client, complain } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";

const o = new Options("tee", "[-a] [FILE]...", "Copies standard input to standard output and to each FILE.")
  .flag("a", "append", "add to the FILEs instead of emptying them")
  .parse(args());
const append = o.given("a");
const fs = client();
const handles = new Array<i32>();
const names = new Array<string>();
let failed = false;
for (let i = 0; i < o.operands.length; i++) {
  const path = o.operands[i];
  const flags = append ? FS_RIGHT_APPEND | FS_OPEN_CREATE : FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE;
  const h = fs.open(base(path), within(path), flags);
  if (h < 0) {
    complain("tee", visible(path), h);
    failed = true;
    continue;
  }
  handles.push(h);
  names.push(visible(path));
}
const buffer = memory.data(256);
for (;;) {
  const n = read(buffer, 252);
  if (n <= 0) break;
  if (writeBytes(STDOUT, buffer, <usize>n) < 0) failed = true;
  // A file handle is a stream from its position (at its end with -a): each write goes after the last.
  for (let i = 0; i < handles.length; i++) {
    if (handles[i] == 0) continue;
    const w = streamWrite(handles[i], buffer, <usize>n);
    if (w < 0) {
      complain("tee", names[i], w);
      handles[i] = 0;
      failed = true;
    }
  }
}
for (let i = 0; i < handles.length; i++) {
  if (handles[i] == 0) continue;
  const synced = fs.sync(handles[i]);
  if (synced < 0) {
    complain("tee", names[i], synced);
    failed = true;
  }
  fs.close(handles[i]);
}
exit(failed ? 1 : 0);
