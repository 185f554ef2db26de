// caps PID: the capability table of a process: slot, object kind, rights, badge (KERNEL_CAPS,
// relayed by the process manager).
import {
  print, eprint, statusText, exit, args, procForTool, procInspect, capsNext, capsEntries, capsEntry, lineBegin, lineAdd, lineAddHex, linePrint,
  OP_KERNEL_CAPS,
} from "../lib";
import { Options } from "../lib/options";

const KINDS: StaticArray<string> = ["?", "memory", "process", "receiver", "reply", "page", "cappage", "region", "interrupt", "image", "device", "kernel"];

function pad(s: string, width: i32): string {
  return s.length >= width ? s : " ".repeat(width - s.length) + s;
}

const options = new Options("caps", "PID", "Shows the capability table of process PID: slot, object kind, rights, badge.").parse(args());
if (options.operands.length != 1) options.usageError(options.operands.length == 0 ? "missing PID" : "extra operand '" + options.operands[1] + "'");
const argv = ["caps", options.operands[0]];
const pid = u32.parse(argv[1]);
if (pid == 0) options.usageError(argv[1] + ": not a process id");
const proc = procForTool();
if (proc < 0) {
  eprint("caps: no process manager: " + statusText(proc));
  exit(1);
}
print("SLOT KIND       RIGHTS     BADGE");
let slot: u32 = 0;
do {
  const status = procInspect(proc, OP_KERNEL_CAPS, pid, slot);
  if (status < 0) {
    eprint("caps: " + argv[1] + ": " + statusText(status));
    exit(1);
  }
  slot = capsNext();
  const n = capsEntries();
  for (let i = 0; i < n; i++) {
    const kind = capsEntry(i, 1);
    const name = kind < <u32>KINDS.length ? KINDS[kind] : "kind " + kind.toString();
    lineBegin(pad(capsEntry(i, 0).toString(), 4) + " " + name + " ".repeat(max(1, 11 - name.length)));
    lineAddHex(capsEntry(i, 2));
    lineAdd(" ");
    lineAdd(capsEntry(i, 3).toString());
    linePrint();
  }
} while (slot != 0);
exit(0);
