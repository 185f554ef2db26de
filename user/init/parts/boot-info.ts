// The boot info (docs/BOOT.md "Boot info"): a read-only Region view at init's slot 3 whose first
// u32 is the byte length of the UTF-8 text that follows. The text names the boot modules (slot i
// of the Images Cappage), the devices (slot i of the Devices and Interrupts Cappages) and the
// kernel parameters; everything after the line "config" is the config file.
import { Region, errorName, lineBegin, lineAdd, lineAddI32, linePrint, CAPPAGE_SLOTS, STDOUT } from "../../lib";
import { fields, lines, parseCount } from "./text";

export class BootModule {
  constructor(readonly index: i32, readonly name: string) {}
}

export class BootDevice {
  constructor(readonly index: i32, readonly name: string, readonly line: i32) {}
}

export class BootParam {
  constructor(readonly key: string, readonly value: string) {}
}

export class BootInfo {
  modules: BootModule[] = [];
  devices: BootDevice[] = [];
  params: BootParam[] = [];
  /** The config file's text, verbatim; "" when the boot info has no "config" line. */
  config: string = "";
  hasConfig: bool = false;

  module(name: string): BootModule | null {
    for (let i = 0; i < this.modules.length; i++) if (this.modules[i].name == name) return this.modules[i];
    return null;
  }

  device(name: string): BootDevice | null {
    for (let i = 0; i < this.devices.length; i++) if (this.devices[i].name == name) return this.devices[i];
    return null;
  }
}

/** The boot info's text from the view at `cap`, or null (said why on the console). */
export function readBootInfo(cap: i32): string | null {
  const info = new Region(cap).info();
  if (info.status < 0) {
    complain("cannot read the boot info (slot " + cap.toString() + "): " + errorName(info.status));
    return null;
  }
  const length = load<u32>(<usize>info.address);
  if (<u64>length + 4 > <u64>info.pages * 4096) {
    complain("the boot info says it holds " + length.toString() + " bytes; its Region has " + info.pages.toString() + " pages");
    return null;
  }
  return String.UTF8.decodeUnsafe(<usize>info.address + 4, <usize>length);
}

/** Parses the boot info text; a line it cannot read is logged and skipped. */
export function parseBootInfo(text: string): BootInfo {
  const info = new BootInfo();
  const all = lines(text);
  for (let i = 0; i < all.length; i++) {
    const f = fields(all[i]);
    if (f.length == 0) continue;
    if (f[0] == "config" && f.length == 1) {
      info.hasConfig = true;
      info.config = all.slice(i + 1).join("\n");
      break;
    }
    const why = parseLine(info, f);
    if (why.length > 0) {
      lineBegin("init: boot info line ");
      lineAddI32(i + 1);
      lineAdd(": " + why + "; skipped: ");
      lineAdd(all[i]);
      linePrint(STDOUT, true);
    }
  }
  return info;
}

/** Adds what one line says to `info`: "" when it did, else why not. */
function parseLine(info: BootInfo, f: string[]): string {
  const what = f[0];
  if (what == "module") {
    if (f.length != 3) return "expected: module INDEX NAME";
    const index = parseCount(f[1]);
    if (index < 0 || index >= CAPPAGE_SLOTS) return "bad module index";
    if (info.module(f[2]) != null) return "module " + f[2] + " is named twice";
    info.modules.push(new BootModule(index, f[2]));
    return "";
  }
  if (what == "device") {
    if (f.length != 5 || f[3] != "line") return "expected: device INDEX NAME line LINE";
    const index = parseCount(f[1]);
    const line = parseCount(f[4]);
    if (index < 0 || index >= CAPPAGE_SLOTS) return "bad device index";
    if (line < 0) return "bad interrupt line";
    if (info.device(f[2]) != null) return "device " + f[2] + " is named twice";
    info.devices.push(new BootDevice(index, f[2], line));
    return "";
  }
  if (what == "param") {
    if (f.length != 3) return "expected: param KEY VALUE";
    info.params.push(new BootParam(f[1], f[2]));
    return "";
  }
  return "unknown entry \"" + what + "\"";
}

function complain(why: string): void {
  lineBegin("init: ");
  lineAdd(why);
  linePrint(STDOUT, true);
}
