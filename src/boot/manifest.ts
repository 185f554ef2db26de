/**
 * Program manifests (docs/MANIFESTS.md): the text written beside a program's source
 * (`user/services/fs.manifest` beside `fs.ts`), checked by the build and carried in the binary as
 * the custom section `dogma.manifest`. This is the host's reader, used by the build (a manifest
 * that does not parse fails the build, naming the file and line) and the tests; process 1 and the
 * shell's installer read the same grammar with user/lib/manifest.ts, and the two give the same
 * messages (test/boot/manifest.test.ts compares them on the same inputs).
 *
 * The loader and the kernel never read the section: it only tells init and the installer what a
 * program asks for, and they check it against the system before the program may run.
 */

/** The custom section's name. */
export const MANIFEST_SECTION = "dogma.manifest";
/** A manifest is short text: a longer one is refused before it is read. */
export const MAX_MANIFEST_BYTES = 4096;
/** A program's name, as a boot module, a file in /bin and a service's name. */
export const MAX_PROGRAM_NAME_BYTES = 32;

export type ManifestKind = "program" | "service" | "driver";

/** The capabilities a service's manifest may ask init for with `cap` (docs/BOOT.md "Config" says what each is). */
export const PLAIN_CAPS = ["kernel", "kernel-info", "images", "bootinfo", "control", "boot-modules", "log-channel", "supervise", "session"] as const;
/** What a program run from the shell may ask for of the shell's standard set (docs/PROGRAMS.md "Standard slots"). */
export const PROGRAM_CAPS = ["streams", "job-memory", "cwd", "root", "host", "registry"] as const;

export interface Dependency {
  /** The service's name (in the registry, or a shared Cappage's). */
  readonly service: string;
  /** The contract spoken with it: a name, and a digest of its compiled form when the manifest gives one. */
  readonly contract: ContractRef;
  /** Reached through a Cappage init shares (`publish=` / `use=`), not the registry. */
  readonly shared: boolean;
  /** `needs ... optional`: the program runs without it. */
  readonly optional: boolean;
  readonly line: number;
}

export interface ContractRef {
  readonly name: string;
  readonly digest: string;
}

/** One capability slot the program asks for, in the order it gets them (from slot 3). */
export interface SlotRequest {
  /** A grant as the config writes it: `memory=64`, `device=block`, `publish=fs`, `control`... */
  readonly grant: string;
  readonly line: number;
}

export interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly kind: ManifestKind;
  /** Pages of memory it needs to run (0: it says nothing; it lives in its parent's Memory). */
  readonly memoryPages: number;
  /** The quota of its own Memory, at least memoryPages: a limit, not a reservation (paging backs it). */
  readonly memoryLimit: number;
  readonly devices: string[];
  readonly interrupts: string[];
  readonly provides: Dependency[];
  readonly needs: Dependency[];
  readonly caps: string[];
  /** The directories it asks for read-only (`cap cwd read`, `cap root read`). */
  readonly readOnly: string[];
  /** pin=N (-1: pageable), pager=N (0: not the pager). */
  readonly pin: number;
  readonly pagerPages: number;
  /** What init gives it, in slot order. */
  readonly slots: SlotRequest[];
}

export class ManifestError extends Error {
  readonly line: number;
  readonly reason: string;
  constructor(line: number, reason: string) {
    super(line > 0 ? `line ${line}: ${reason}` : reason);
    this.line = line;
    this.reason = reason;
  }
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;
const VERSION = /^[0-9]+(\.[0-9]+){0,2}$/;
const CONTRACT = /^[A-Z][A-Za-z0-9]*(@[0-9a-f]{8,64})?$/;

/**
 * The first character of `line` a terminal would act on (C0 controls but tab and \r, DEL, C1
 * controls), or -1. A manifest is printable text: refusals quote its words, and a refusal must
 * never drive the terminal of whoever installs a hostile binary (as user/lib/manifest.ts).
 */
function controlCharacter(line: string): number {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0d) || (c >= 0x7f && c <= 0x9f)) return c;
  }
  return -1;
}

function controlMessage(c: number): string {
  return `a control character (0x${c.toString(16).padStart(2, "0")}): a manifest is printable text`;
}

/** Parses a manifest's text: the manifest, or a ManifestError naming the first bad line. */
export function parseManifest(text: string): Manifest {
  if (utf8Length(text) > MAX_MANIFEST_BYTES) throw new ManifestError(0, `${utf8Length(text)} bytes, more than a manifest may have (${MAX_MANIFEST_BYTES})`);
  let name = "";
  let version = "";
  let kind: ManifestKind | "" = "";
  let memoryPages = 0;
  let memoryLimit = 0;
  let pin = -1;
  let pagerPages = 0;
  const devices: string[] = [];
  const interrupts: string[] = [];
  const provides: Dependency[] = [];
  const needs: Dependency[] = [];
  const caps: string[] = [];
  const readOnly: string[] = [];
  const slots: SlotRequest[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const control = controlCharacter(lines[i]);
    if (control >= 0) throw new ManifestError(line, controlMessage(control));
    // As user/lib/manifest.ts reads it: "#" to the end of the line is a comment (whatever follows, \r included).
    const hash = lines[i].indexOf("#");
    const f = (hash >= 0 ? lines[i].slice(0, hash) : lines[i]).split(/[ \t\r]+/).filter((x) => x.length > 0);
    if (f.length === 0) continue;
    const fail = (why: string): never => {
      throw new ManifestError(line, why);
    };
    const one = (what: string): string => (f.length === 2 ? f[1] : fail(`expected: ${f[0]} ${what}`));
    switch (f[0]) {
      case "name":
        if (name) fail("a second name line");
        name = one("NAME");
        if (!NAME.test(name) || utf8Length(name) > MAX_PROGRAM_NAME_BYTES) fail(`"${name}" is not a program name (a-z, 0-9 and -, at most ${MAX_PROGRAM_NAME_BYTES} bytes)`);
        break;
      case "version":
        if (version) fail("a second version line");
        version = one("VERSION");
        if (!VERSION.test(version)) fail(`"${version}" is not a version (1, 1.2 or 1.2.3)`);
        break;
      case "kind": {
        if (kind) fail("a second kind line");
        const k = one("program|service|driver");
        if (k !== "program" && k !== "service" && k !== "driver") fail(`unknown kind "${k}" (program, service or driver)`);
        kind = k as ManifestKind;
        break;
      }
      case "memory": {
        if (memoryPages) fail("a second memory line");
        if (f.length !== 2 && f.length !== 3) fail("expected: memory PAGES [LIMIT]");
        memoryPages = count(f[1]);
        if (memoryPages <= 0) fail(`memory ${f[1]} is not a number of pages`);
        memoryLimit = f.length === 3 ? count(f[2]) : memoryPages;
        if (memoryLimit < memoryPages) fail(`memory limit ${f[2]} is not a number of pages at least ${memoryPages}`);
        slots.push({ grant: `memory=${memoryLimit}`, line });
        break;
      }
      case "device":
      case "interrupt": {
        const device = one("NAME");
        if (!NAME.test(device)) fail(`"${device}" is not a device name`);
        const list = f[0] === "device" ? devices : interrupts;
        if (list.includes(device)) fail(`${f[0]} ${device} is named twice`);
        list.push(device);
        slots.push({ grant: `${f[0]}=${device}`, line });
        break;
      }
      case "provides":
      case "needs": {
        if (f.length < 3) fail(`expected: ${f[0]} SERVICE CONTRACT${f[0] === "needs" ? " [shared [read|swap]] [optional]" : " [shared]"}`);
        const service = f[1];
        if (!NAME.test(service)) fail(`"${service}" is not a service name`);
        if (!CONTRACT.test(f[2])) fail(`"${f[2]}" is not a contract (a name such as BlockDevice, maybe @ and its digest in hex)`);
        const [contractName, digest = ""] = f[2].split("@");
        let shared = false;
        let optional = false;
        // `read`: only the provider's read-only offering (slot 1 of its Cappage, init's `read=`);
        // `swap`: only its offering to the pager (slot 2: the file system's swap door, init's `swap=`).
        let readOnly = false;
        let swap = false;
        for (const flag of f.slice(3)) {
          if (flag === "shared" && !shared) shared = true;
          else if (flag === "optional" && f[0] === "needs" && !optional) optional = true;
          else if (flag === "read" && f[0] === "needs" && shared && !readOnly && !swap) readOnly = true;
          else if (flag === "swap" && f[0] === "needs" && shared && !readOnly && !swap) swap = true;
          else fail(`unexpected "${flag}" (${f[0] === "needs" ? "shared, read or swap after shared, or optional" : "shared"})`);
        }
        const list = f[0] === "provides" ? provides : needs;
        if (list.some((d) => d.service === service)) fail(`${f[0]} ${service} twice`);
        list.push({ service, contract: { name: contractName, digest }, shared, optional, line });
        if (shared) slots.push({ grant: `${f[0] === "provides" ? "publish" : readOnly ? "read" : swap ? "swap" : "use"}=${service}`, line });
        break;
      }
      case "cap": {
        // `cap cwd read`, `cap root read`: the directory with the read right alone.
        const readsOnly = f.length === 3 && f[2] === "read" && (f[1] === "cwd" || f[1] === "root");
        if (f.length !== 2 && !readsOnly) fail("expected: cap CAPABILITY (cwd and root may add read)");
        const cap = f[1];
        if (readsOnly) readOnly.push(cap);
        const pager = /^pager=(.*)$/.exec(cap);
        if (pager) {
          if (pagerPages) fail("a second pager capability");
          pagerPages = count(pager[1]);
          if (pagerPages <= 0) fail(`pager=${pager[1]} is not a number of pages`);
          slots.push({ grant: cap, line });
          break;
        }
        const program = (PROGRAM_CAPS as readonly string[]).includes(cap);
        if (!program && !(PLAIN_CAPS as readonly string[]).includes(cap)) {
          fail(`unknown capability "${cap}" (${[...PLAIN_CAPS, ...PROGRAM_CAPS].join(", ")} or pager=PAGES)`);
        }
        if (caps.includes(cap)) fail(`cap ${cap} is asked twice`);
        caps.push(cap);
        // supervise and session are rights init keeps for the service, not slots; the shell gives a program what it asks of its standard set.
        if (cap !== "supervise" && cap !== "session" && !program) slots.push({ grant: cap, line });
        break;
      }
      case "pin": {
        if (pin >= 0) fail("a second pin line");
        pin = count(one("0|1|2"));
        if (pin < 0 || pin > 2 || f[1].length !== 1) fail(`pin ${f[1]} is not 0, 1 or 2`);
        break;
      }
      default:
        fail(`unknown line "${f[0]}" (name, version, kind, memory, device, interrupt, provides, needs, cap or pin)`);
    }
  }
  if (!name) throw new ManifestError(0, "no name line");
  if (!version) throw new ManifestError(0, "no version line");
  if (!kind) throw new ManifestError(0, "no kind line");
  if (kind !== "driver" && (devices.length > 0 || interrupts.length > 0)) {
    throw new ManifestError(0, `a ${kind} drives no device: only a driver may name one`);
  }
  return { name, version, kind, memoryPages, memoryLimit, devices, interrupts, provides, needs, caps, readOnly, pin, pagerPages, slots };
}

/** A decimal count of at most 9 digits, or -1. */
function count(s: string): number {
  return /^[0-9]{1,9}$/.test(s) ? Number(s) : -1;
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/**
 * Whether a program that needs `needed` can speak to one that provides `provided`: the same
 * contract name, and the same digest when both give one. The one place compatibility is decided
 * (the contracts' `contractDigest` will make the digest always present).
 */
export function contractsCompatible(needed: ContractRef, provided: ContractRef): boolean {
  if (needed.name !== provided.name) return false;
  return needed.digest === "" || provided.digest === "" || needed.digest === provided.digest;
}

/**
 * The manifest as the build puts it in the binary: each contract named in a `needs` or `provides`
 * line that `digests` knows (name -> `Name@digest`, from contracts/*.contract) gets its digest, so
 * that install and init compare what each side was built against. A digest the manifest already
 * gives must be the current one. Only that token of the line changes: lines keep their numbers.
 */
export function withContractDigests(text: string, digests: ReadonlyMap<string, string>): string {
  if (digests.size === 0) return text;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const hash = line.indexOf("#");
    const body = hash >= 0 ? line.slice(0, hash) : line;
    const match = /^([ \t\r]*(?:needs|provides)[ \t\r]+[^ \t\r]+[ \t\r]+)([^ \t\r]+)/.exec(body);
    if (!match) continue;
    const [name, digest = ""] = match[2].split("@");
    const current = digests.get(name);
    if (current === undefined) continue;
    if (digest !== "" && `${name}@${digest}` !== current) throw new ManifestError(i + 1, `contract ${name} is ${current} now; the manifest says ${match[2]}`);
    lines[i] = match[1] + current + line.slice(match[0].length);
  }
  return lines.join("\n");
}

// ---- The custom section -------------------------------------------------------------------------

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/**
 * `binary` with the manifest's text as a custom section right after the header (the first
 * section, so a reader finds it without walking the code); any `dogma.manifest` it held is
 * replaced. The text is stored verbatim: what init and the installer parse is what was written.
 */
export function withManifestSection(binary: Uint8Array, text: string): Uint8Array {
  const rest = sectionsWithout(binary, MANIFEST_SECTION);
  const name = new TextEncoder().encode(MANIFEST_SECTION);
  const payload = new TextEncoder().encode(text);
  const body = [...leb(name.length), ...name];
  const size = body.length + payload.length;
  const header = [0, ...leb(size), ...body];
  const out = new Uint8Array(8 + header.length + payload.length + rest.length);
  out.set(binary.subarray(0, 8), 0);
  out.set(header, 8);
  out.set(payload, 8 + header.length);
  out.set(rest, 8 + header.length + payload.length);
  return out;
}

interface Section {
  readonly id: number;
  readonly start: number;
  readonly payloadStart: number;
  readonly end: number;
  readonly name: string;
}

function readLeb(bytes: Uint8Array, at: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (at >= bytes.length) throw new Error("the binary ends inside a section header");
    const byte = bytes[at++];
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [result, at];
    shift += 7;
  }
  throw new Error("a section size takes more than 5 bytes");
}

function sections(binary: Uint8Array): Section[] {
  if (binary.length < 8 || binary[0] !== 0 || binary[1] !== 0x61 || binary[2] !== 0x73 || binary[3] !== 0x6d) throw new Error("not a WebAssembly binary");
  const out: Section[] = [];
  let at = 8;
  while (at < binary.length) {
    const start = at;
    const id = binary[at++];
    const [size, payloadStart] = readLeb(binary, at);
    const end = payloadStart + size;
    if (end > binary.length) throw new Error(`section ${id} at byte ${start} runs past the end of the binary`);
    let name = "";
    if (id === 0) {
      const [length, nameAt] = readLeb(binary, payloadStart);
      if (nameAt + length > end) throw new Error(`the custom section at byte ${start} has a name longer than itself`);
      name = new TextDecoder().decode(binary.subarray(nameAt, nameAt + length));
    }
    out.push({ id, start, payloadStart, end, name });
    at = end;
  }
  return out;
}

function sectionsWithout(binary: Uint8Array, name: string): Uint8Array {
  const kept = sections(binary).filter((s) => !(s.id === 0 && s.name === name));
  const parts = kept.map((s) => binary.subarray(s.start, s.end));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The manifest text a binary carries, or null when it has none; throws when it has two. */
export function manifestTextOf(binary: Uint8Array): string | null {
  const found = sections(binary).filter((s) => s.id === 0 && s.name === MANIFEST_SECTION);
  if (found.length > 1) throw new Error(`${found.length} ${MANIFEST_SECTION} sections: a program has one manifest`);
  if (found.length === 0) return null;
  const s = found[0];
  const [length, nameAt] = readLeb(binary, s.payloadStart);
  return new TextDecoder("utf-8", { fatal: true }).decode(binary.subarray(nameAt + length, s.end));
}
