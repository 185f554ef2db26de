// Program manifests (docs/MANIFESTS.md): what a program is and asks for, carried in its binary as
// the custom section "dogma.manifest". This reader is process 1's and the installer's; the build
// reads the same grammar with src/boot/manifest.ts and the two give the same messages
// (test/boot/manifest.test.ts). Never aborts on bad input: a manifest that does not parse comes
// back with `error` set, naming the line.

import { fields } from "./fields";

export const MANIFEST_SECTION = "dogma.manifest";
export const MAX_MANIFEST_BYTES: i32 = 4096;
export const MAX_PROGRAM_NAME_BYTES: i32 = 32;

/** What a service's `cap` may ask init for besides pager=PAGES (docs/BOOT.md "Config" says what each grant is). */
const PLAIN_CAPS: string[] = ["kernel", "kernel-info", "images", "bootinfo", "control", "boot-modules", "log-channel", "supervise", "session"];
/** What a program run from the shell may ask for of the shell's standard set (docs/PROGRAMS.md "Standard slots"), in slot order from 4. */
export const PROGRAM_CAPS: string[] = ["streams", "job-memory", "cwd", "root", "host", "registry"];

export class ManifestDependency {
  constructor(
    readonly service: string,
    readonly contract: string,
    /** The digest of the contract's compiled form, when the manifest gives one ("" when not). */
    readonly digest: string,
    /** Reached through a Cappage init shares (publish= / use=), not the registry. */
    readonly shared: bool,
    readonly optional: bool,
    readonly line: i32,
  ) {}
}

/** One capability the program asks for, in the order it gets them (from slot 3). */
export class ManifestSlot {
  constructor(
    /** As the config writes a grant: memory=64, device=block, publish=fs, control... */
    readonly grant: string,
    readonly line: i32,
  ) {}
}

export class Manifest {
  name: string = "";
  version: string = "";
  /** program, service or driver. */
  kind: string = "";
  /** Pages of memory it needs to run (0: it says nothing; it lives in its parent's Memory). */
  memoryPages: i32 = 0;
  /** The quota of its own Memory, at least memoryPages: a limit, not a reservation (paging backs it). */
  memoryLimit: i32 = 0;
  devices: string[] = [];
  interrupts: string[] = [];
  provides: ManifestDependency[] = [];
  needs: ManifestDependency[] = [];
  caps: string[] = [];
  /** The directories it asks for read-only (`cap cwd read`, `cap root read`): the shell gives them with FS_RIGHT_READ alone. */
  readOnly: string[] = [];
  pin: i32 = -1;
  pagerPages: i32 = 0;
  slots: ManifestSlot[] = [];
  /** "" when it parsed; else why not ("line 3: ..."). */
  error: string = "";
  /** The text it was read from. */
  text: string = "";

  hasCap(cap: string): bool {
    return this.caps.includes(cap);
  }

  /** Whether it asks for directory `cap` (cwd, root) read-only. */
  readsOnly(cap: string): bool {
    return this.readOnly.includes(cap);
  }

  /** Whether it needs service `service` (optionally or not). */
  needsService(service: string): bool {
    for (let i = 0; i < this.needs.length; i++) if (this.needs[i].service == service) return true;
    return false;
  }

  /**
   * What init gives it, a capability at a time from slot 3: each one's grant and line (boot-modules
   * takes two slots: the Images Cappage and the boot info's view).
   */
  capabilitySlots(): ManifestSlot[] {
    const out = new Array<ManifestSlot>();
    for (let i = 0; i < this.slots.length; i++) {
      out.push(this.slots[i]);
      if (this.slots[i].grant == "boot-modules") out.push(this.slots[i]);
    }
    return out;
  }

  /** The text of line `n` (from 1), without its comment or surrounding spaces. */
  lineText(n: i32): string {
    const lines = this.text.split("\n");
    if (n < 1 || n > lines.length) return "";
    const line = lines[n - 1];
    const hash = line.indexOf("#");
    return (hash >= 0 ? line.substring(0, hash) : line).trim();
  }
}

function isNameChar(c: i32, first: bool): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (!first && c == 0x2d);
}

/** [a-z0-9][a-z0-9-]* */
function isName(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) if (!isNameChar(s.charCodeAt(i), i == 0)) return false;
  return true;
}

function isDigits(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** 1, 1.2 or 1.2.3 */
function isVersion(s: string): bool {
  const parts = s.split(".");
  if (parts.length > 3) return false;
  for (let i = 0; i < parts.length; i++) if (!isDigits(parts[i])) return false;
  return true;
}

function isHex(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** A contract's name (BlockDevice), maybe @ and 8 to 64 hex digits of its digest. */
function isContract(s: string): bool {
  const at = s.indexOf("@");
  const name = at < 0 ? s : s.substring(0, at);
  if (name.length == 0) return false;
  const first = name.charCodeAt(0);
  if (first < 0x41 || first > 0x5a) return false;
  for (let i = 1; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  if (at < 0) return true;
  const digest = s.substring(at + 1);
  return digest.length >= 8 && digest.length <= 64 && isHex(digest);
}

/** A decimal count of at most 9 digits, or -1. */
function count(s: string): i32 {
  if (s.length > 9 || !isDigits(s)) return -1;
  return I32.parseInt(s);
}


function hasDependency(list: ManifestDependency[], service: string): bool {
  for (let i = 0; i < list.length; i++) if (list[i].service == service) return true;
  return false;
}

/**
 * The first character of `line` a terminal would act on (C0 controls but tab and \r, DEL, C1
 * controls), or -1. A manifest is printable text: refusals quote its words, and one must never
 * drive the terminal of whoever installs a hostile binary (as src/boot/manifest.ts).
 */
function controlCharacter(line: string): i32 {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c < 0x20 && c != 0x09 && c != 0x0d) || (c >= 0x7f && c <= 0x9f)) return c;
  }
  return -1;
}

function hexByte(c: i32): string {
  const digits = "0123456789abcdef";
  return digits.charAt((c >> 4) & 15) + digits.charAt(c & 15);
}

/** Parses a manifest's text; `error` says what is wrong, and where, when it does not parse. */
export function parseManifest(text: string): Manifest {
  const m = new Manifest();
  m.text = text;
  const bytes = String.UTF8.byteLength(text);
  if (bytes > MAX_MANIFEST_BYTES) {
    m.error = bytes.toString() + " bytes, more than a manifest may have (" + MAX_MANIFEST_BYTES.toString() + ")";
    return m;
  }
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const control = controlCharacter(lines[i]);
    if (control >= 0) {
      m.error = "line " + (i + 1).toString() + ": a control character (0x" + hexByte(control) + "): a manifest is printable text";
      return m;
    }
    const f = fields(lines[i]);
    if (f.length == 0) continue;
    const why = parseLine(m, f, i + 1);
    if (why.length > 0) {
      m.error = "line " + (i + 1).toString() + ": " + why;
      return m;
    }
  }
  if (m.name.length == 0) m.error = "no name line";
  else if (m.version.length == 0) m.error = "no version line";
  else if (m.kind.length == 0) m.error = "no kind line";
  else if (m.kind != "driver" && (m.devices.length > 0 || m.interrupts.length > 0)) m.error = "a " + m.kind + " drives no device: only a driver may name one";
  return m;
}

/** What one line says, into `m`: "" when it is good, else why not. */
function parseLine(m: Manifest, f: string[], line: i32): string {
  const what = f[0];
  if (what == "name") {
    if (m.name.length > 0) return "a second name line";
    if (f.length != 2) return "expected: name NAME";
    m.name = f[1];
    if (!isName(m.name) || String.UTF8.byteLength(m.name) > MAX_PROGRAM_NAME_BYTES) {
      return "\"" + m.name + "\" is not a program name (a-z, 0-9 and -, at most " + MAX_PROGRAM_NAME_BYTES.toString() + " bytes)";
    }
    return "";
  }
  if (what == "version") {
    if (m.version.length > 0) return "a second version line";
    if (f.length != 2) return "expected: version VERSION";
    m.version = f[1];
    return isVersion(m.version) ? "" : "\"" + m.version + "\" is not a version (1, 1.2 or 1.2.3)";
  }
  if (what == "kind") {
    if (m.kind.length > 0) return "a second kind line";
    if (f.length != 2) return "expected: kind program|service|driver";
    if (f[1] != "program" && f[1] != "service" && f[1] != "driver") return "unknown kind \"" + f[1] + "\" (program, service or driver)";
    m.kind = f[1];
    return "";
  }
  if (what == "memory") {
    if (m.memoryPages != 0) return "a second memory line";
    if (f.length != 2 && f.length != 3) return "expected: memory PAGES [LIMIT]";
    m.memoryPages = count(f[1]);
    if (m.memoryPages <= 0) return "memory " + f[1] + " is not a number of pages";
    m.memoryLimit = f.length == 3 ? count(f[2]) : m.memoryPages;
    if (m.memoryLimit < m.memoryPages) return "memory limit " + f[2] + " is not a number of pages at least " + m.memoryPages.toString();
    m.slots.push(new ManifestSlot("memory=" + m.memoryLimit.toString(), line));
    return "";
  }
  if (what == "device" || what == "interrupt") {
    if (f.length != 2) return "expected: " + what + " NAME";
    const device = f[1];
    if (!isName(device)) return "\"" + device + "\" is not a device name";
    const list = what == "device" ? m.devices : m.interrupts;
    if (list.includes(device)) return what + " " + device + " is named twice";
    list.push(device);
    m.slots.push(new ManifestSlot(what + "=" + device, line));
    return "";
  }
  if (what == "provides" || what == "needs") return parseDependency(m, f, line);
  if (what == "cap") {
    // `cap cwd read`, `cap root read`: the directory with the read right alone.
    const readOnly = f.length == 3 && f[2] == "read" && (f[1] == "cwd" || f[1] == "root");
    if (f.length != 2 && !readOnly) return "expected: cap CAPABILITY (cwd and root may add read)";
    const cap = f[1];
    if (cap.startsWith("pager=")) {
      if (m.pagerPages != 0) return "a second pager capability";
      const value = cap.substring(6);
      m.pagerPages = count(value);
      if (m.pagerPages <= 0) return "pager=" + value + " is not a number of pages";
      m.slots.push(new ManifestSlot(cap, line));
      return "";
    }
    const program = PROGRAM_CAPS.includes(cap);
    if (!program && !PLAIN_CAPS.includes(cap)) return "unknown capability \"" + cap + "\" (" + PLAIN_CAPS.join(", ") + ", " + PROGRAM_CAPS.join(", ") + " or pager=PAGES)";
    if (m.caps.includes(cap)) return "cap " + cap + " is asked twice";
    m.caps.push(cap);
    if (readOnly) m.readOnly.push(cap);
    // supervise and session are rights init keeps for the service, not slots; the shell gives a program what it asks of its standard set.
    if (cap != "supervise" && cap != "session" && !program) m.slots.push(new ManifestSlot(cap, line));
    return "";
  }
  if (what == "pin") {
    if (m.pin >= 0) return "a second pin line";
    if (f.length != 2) return "expected: pin 0|1|2";
    m.pin = count(f[1]);
    if (m.pin < 0 || m.pin > 2 || f[1].length != 1) return "pin " + f[1] + " is not 0, 1 or 2";
    return "";
  }
  return "unknown line \"" + what + "\" (name, version, kind, memory, device, interrupt, provides, needs, cap or pin)";
}

function parseDependency(m: Manifest, f: string[], line: i32): string {
  const needs = f[0] == "needs";
  if (f.length < 3) return "expected: " + f[0] + " SERVICE CONTRACT" + (needs ? " [shared [read|swap]] [optional]" : " [shared]");
  const service = f[1];
  if (!isName(service)) return "\"" + service + "\" is not a service name";
  if (!isContract(f[2])) return "\"" + f[2] + "\" is not a contract (a name such as BlockDevice, maybe @ and its digest in hex)";
  const at = f[2].indexOf("@");
  const contract = at < 0 ? f[2] : f[2].substring(0, at);
  const digest = at < 0 ? "" : f[2].substring(at + 1);
  let shared = false;
  let optional = false;
  // `read`: only the provider's read-only offering (slot 1 of its Cappage, init's `read=`);
  // `swap`: only its offering to the pager (slot 2: the file system's swap door, init's `swap=`).
  let readOnly = false;
  let swap = false;
  for (let i = 3; i < f.length; i++) {
    const flag = f[i];
    if (flag == "shared" && !shared) shared = true;
    else if (flag == "optional" && needs && !optional) optional = true;
    else if (flag == "read" && needs && shared && !readOnly && !swap) readOnly = true;
    else if (flag == "swap" && needs && shared && !readOnly && !swap) swap = true;
    else return "unexpected \"" + flag + "\" (" + (needs ? "shared, read or swap after shared, or optional" : "shared") + ")";
  }
  const list = needs ? m.needs : m.provides;
  if (hasDependency(list, service)) return f[0] + " " + service + " twice";
  list.push(new ManifestDependency(service, contract, digest, shared, optional, line));
  if (shared) m.slots.push(new ManifestSlot((needs ? (readOnly ? "read=" : swap ? "swap=" : "use=") : "publish=") + service, line));
  return "";
}

/**
 * Whether a program that needs `needed` can speak to one that provides `provided`: the same
 * contract name, and the same digest when both give one. The one place compatibility is decided.
 */
export function contractsCompatible(needed: ManifestDependency, provided: ManifestDependency): bool {
  if (needed.contract != provided.contract) return false;
  return needed.digest.length == 0 || provided.digest.length == 0 || needed.digest == provided.digest;
}

// ---- The custom section in a binary -----------------------------------------------------------

/** Why the last manifestTextIn found no manifest ("" when the binary simply has none). */
export let manifestSectionError: string = "";

/** Sets manifestSectionError (another file cannot assign an imported variable). */
export function setManifestSectionError(why: string): void {
  manifestSectionError = why;
}

let lebEnd: u32 = 0;

/** The unsigned LEB128 at `at` (at most 5 bytes, before `end`), its end in lebEnd; -1 when it is not one. */
function readLeb(base: usize, at: u32, end: u32): i64 {
  let result: u64 = 0;
  for (let i: u32 = 0; i < 5; i++) {
    if (at >= end) return -1;
    const byte = <u64>load<u8>(base + at++);
    result |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      lebEnd = at;
      return result > 0xffffffff ? -1 : <i64>result;
    }
  }
  return -1;
}

function nameIs(base: usize, at: u32, length: u32, name: string): bool {
  if (<i32>length != name.length) return false;
  for (let i: u32 = 0; i < length; i++) if (<i32>load<u8>(base + at + i) != name.charCodeAt(<i32>i)) return false;
  return true;
}

/** Where readSectionHeader's section ends, and where its manifest text begins (0: it is not the manifest). */
export let sectionEnd: u32 = 0;
export let manifestAt: u32 = 0;

/**
 * Reads the header of the section at byte `at` of a binary of `size` bytes, whose bytes `from` to
 * `to` are at `base` (all of them, or a window around the header): its end into sectionEnd, and
 * into manifestAt where the manifest's text begins when it is the manifest section. False when the
 * header is malformed or runs past the binary: then manifestSectionError says why.
 */
export function readSectionHeader(base: usize, from: u32, to: u32, at: u32, size: u32): bool {
  const local = at - from;
  const window = to - from;
  const id = load<u8>(base + local);
  const length = readLeb(base, local + 1, window);
  if (length < 0 || <u64>from + <u64>lebEnd + <u64>length > <u64>size) {
    manifestSectionError = "section " + id.toString() + " at byte " + at.toString() + " runs past the end of the binary";
    return false;
  }
  const payload = lebEnd;
  sectionEnd = from + payload + <u32>length;
  manifestAt = 0;
  if (id != 0) return true;
  const nameLength = readLeb(base, payload, min(window, payload + <u32>length));
  if (nameLength < 0 || <u64>from + <u64>lebEnd + <u64>nameLength > <u64>sectionEnd) {
    manifestSectionError = "the custom section at byte " + at.toString() + " has a name longer than itself";
    return false;
  }
  // A name that does not fit the window is longer than MANIFEST_SECTION: not the manifest.
  if (<u64>lebEnd + <u64>nameLength > <u64>window || !nameIs(base, lebEnd, <u32>nameLength, MANIFEST_SECTION)) return true;
  const textAt = from + lebEnd + <u32>nameLength;
  if (sectionEnd - textAt > <u32>MAX_MANIFEST_BYTES) {
    manifestSectionError = (sectionEnd - textAt).toString() + " bytes of manifest, more than a manifest may have (" + MAX_MANIFEST_BYTES.toString() + ")";
    return false;
  }
  manifestAt = textAt;
  return true;
}

/** The first four bytes of every WebAssembly binary, as a little-endian word. */
export const WASM_MAGIC: u32 = 0x6d736100;
export const NOT_WASM = "not a WebAssembly binary";
export const TWO_MANIFESTS = "two " + MANIFEST_SECTION + " sections: a program has one manifest";

/**
 * The manifest text of the binary at `base` (`size` bytes), walking section headers only (the
 * build puts it first, so a binary from the build costs a few bytes' reading); null when it has
 * none or it is malformed: then manifestSectionError says why. ./manifest-file.ts reads one from a
 * file too big to hold whole.
 */
export function manifestTextIn(base: usize, size: u32): string | null {
  manifestSectionError = "";
  if (size < 8 || load<u32>(base) != WASM_MAGIC) {
    manifestSectionError = NOT_WASM;
    return null;
  }
  let found: string | null = null;
  let at: u32 = 8;
  while (at < size) {
    if (!readSectionHeader(base, 0, size, at, size)) return null;
    if (manifestAt != 0) {
      if (found != null) {
        manifestSectionError = TWO_MANIFESTS;
        return null;
      }
      found = String.UTF8.decodeUnsafe(base + manifestAt, sectionEnd - manifestAt);
    }
    at = sectionEnd;
  }
  return found;
}
