// caps PID: the capability table of a process: slot, object kind, rights, badge (KERNEL_CAPS,
// relayed by the process manager), and for a service init started from its manifest, the line of
// the manifest that asked for each capability (docs/MANIFESTS.md "caps").
import {
  print, eprint, statusText, exit, args, capsNext, capsEntries, capsEntry, lineBegin, lineAdd, lineAddHex, linePrint,
  OP_KERNEL_CAPS, OP_KERNEL_PROCESS, KernelProcess, readKernelProcess, capKind, KIND_RECEIVER,
} from "../lib";
import { procForTool, procInspect } from "../lib/proc-client";
import { Options } from "../lib/options";
import { FS_RIGHT_READ } from "../lib/fs-client";
import { Manifest, ManifestSlot, parseManifest } from "../lib/manifest";
import { SLOT_ROOT, client } from "./tool-parts/files";

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
/** The record of an installed program (/etc/manifests/NAME), parsed; null when there is none or no file system. */
function recordOf(name: string): Manifest | null {
  if (name.length == 0 || name.includes("/") || capKind(SLOT_ROOT) != <i32>KIND_RECEIVER) return null;
  const fs = client();
  const file = fs.open(SLOT_ROOT, "etc/manifests/" + name, FS_RIGHT_READ);
  if (file < 0) return null;
  let text = "";
  for (let at: u64 = 0; ; ) {
    const n = fs.read(file, at, fs.bufferBytes);
    if (n <= 0) break;
    text += String.UTF8.decodeUnsafe(fs.address, <usize>n);
    at += <u64>n;
  }
  fs.close(file);
  const m = parseManifest(text);
  return m.error.length == 0 && m.name == name ? m : null;
}

/** The kind of capability a manifest's grant gives (a KIND_ number, as KINDS names them). */
function kindOfGrant(grant: string, second: bool): u32 {
  if (grant.startsWith("memory=")) return 1;
  if (grant.startsWith("device=")) return 10;
  if (grant.startsWith("interrupt=")) return 8;
  if (grant.startsWith("publish=") || grant.startsWith("use=") || grant.startsWith("read=") || grant.startsWith("swap=") || grant == "images") return 6;
  if (grant == "boot-modules") return second ? 7 : 6;
  if (grant == "bootinfo") return 7;
  if (grant == "kernel" || grant == "kernel-info") return 11;
  return 3; // control, log-channel, pager=: Receiver capabilities
}

let record: Manifest | null = null;
const slots: u32[] = [];
const kinds: u32[] = [];
const rights: u32[] = [];
const badges: u32[] = [];
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
    slots.push(capsEntry(i, 0));
    kinds.push(capsEntry(i, 1));
    rights.push(capsEntry(i, 2));
    badges.push(capsEntry(i, 3));
  }
} while (slot != 0);

// A service init started (its parent is process 1) from its manifest got, from slot 3, what the
// manifest's lines ask for, in their order. A slot is shown with its line while it still holds a
// capability of the kind that line gives (a service may drop or move what it was given: the file
// system keeps a copy of its kernel-info without rights, elsewhere); a shell's job, or a service
// whose program has no record, shows none.
let asked: ManifestSlot[] = [];
const matches: bool[] = [];
const process = new KernelProcess();
if (procInspect(proc, OP_KERNEL_PROCESS, pid) >= 0) {
  readKernelProcess(process);
  const manifest = process.ppid == 1 ? recordOf(process.name) : null;
  if (manifest != null) {
    asked = manifest.capabilitySlots();
    let any = false;
    for (let i = 0; i < asked.length; i++) {
      const at = slots.indexOf(<u32>(3 + i));
      const second = i > 0 && asked[i - 1] === asked[i];
      matches.push(at >= 0 && kinds[at] == kindOfGrant(asked[i].grant, second));
      any = any || matches[i];
    }
    if (any) {
      print(process.name + " was started from its manifest (/etc/manifests/" + process.name + ")");
      record = manifest;
    }
  }
}

print("SLOT KIND       RIGHTS     BADGE");
for (let i = 0; i < slots.length; i++) {
  const kind = kinds[i];
  const name = kind < <u32>KINDS.length ? KINDS[kind] : "kind " + kind.toString();
  lineBegin(pad(slots[i].toString(), 4) + " " + name + " ".repeat(max(1, 11 - name.length)));
  lineAddHex(rights[i]);
  lineAdd(" ");
  lineAdd(badges[i].toString());
  const index = <i32>slots[i] - 3;
  if (record != null && slots[i] == 2) lineAdd("  every process: the registry");
  if (record != null && index >= 0 && index < asked.length && matches[index]) {
    lineAdd("  manifest line " + asked[index].line.toString() + ": " + record!.lineText(asked[index].line));
  }
  linePrint();
}
exit(0);
