// The config file (docs/BOOT.md "Config"): one service per line, `KIND NAME MODULE GRANT...`,
// started in order, the registry first. A line init cannot use is logged and skipped; the rest
// of the config still starts.
import { lineBegin, lineAdd, lineAddI32, linePrint, packArgs, ARGS_IN_MESSAGE_BYTES, STDOUT } from "../../lib";
import { BootInfo } from "./boot-info";
import { BootManifests } from "./manifests";
import { Manifest } from "../../lib/manifest";
import { fields, lines, parseCount, valueOf } from "./text";

/** The service every other process gets a call capability to, at its slot 2. */
export const REGISTRY_NAME = "registry";
/** At most this many services (the notices Receiver and the capability table are sized by it). */
export const MAX_SERVICES: i32 = 128;
/** A service's name is for logs, and a short one reads better; the registry's limit will do. */
export const MAX_NAME_BYTES: i32 = 64;
/**
 * A config line holds a kind, a name, a module and grants: a longer one is a mistake (a file
 * pasted in, a runaway generator), refused with its length rather than read.
 */
export const MAX_LINE_BYTES: i32 = 1024;

/** A line that only names a boot module to boot with. */
export const MODULE_KIND = "module";
/** A line that starts a boot module as its manifest asks (docs/MANIFESTS.md): `start NAME [OVERRIDE...] [-- ARGS]`. */
export const START_KIND = "start";

/**
 * `deny CAP...`: the system's policy refuses these capabilities (as a manifest names them: kernel,
 * supervise, device, pager...) to every service started from its manifest; a service whose
 * manifest asks for one is not started, since it cannot run without what it asks for.
 */
export const DENY_KIND = "deny";

/** The capabilities the config's `deny` lines refuse, each with its line. */
class Denial {
  constructor(readonly cap: string, readonly line: i32) {}
}
const denied: Denial[] = [];

/** The `deny` line that refuses grant `grant` (as a manifest slot writes it: device=block, pager=8, control...), or 0. */
function deniedBy(grant: string): i32 {
  const eq = grant.indexOf("=");
  const cap = eq < 0 ? grant : grant.substring(0, eq);
  for (let i = 0; i < denied.length; i++) if (denied[i].cap == cap || denied[i].cap == grant) return denied[i].line;
  return 0;
}

/** Whether a config has a `start` line (then init reads the boot modules' manifests). */
export function configStartsFromManifests(text: string): bool {
  const all = lines(text);
  for (let i = 0; i < all.length; i++) {
    const f = fields(all[i]);
    if (f.length > 0 && f[0] == START_KIND) return true;
  }
  return false;
}

/** The field after which a line's fields are the program's arguments, not grants. */
export const ARGS_MARK = "--";

export const GRANT_DEVICE: i32 = 1;
export const GRANT_INTERRUPT: i32 = 2;
export const GRANT_MEMORY: i32 = 3;
/** A copy of init's Kernel capability with KERNEL_INSPECT only (for the process manager). */
export const GRANT_KERNEL: i32 = 4;
/** A read-only copy of the Cappage of Images (boot module i at slot i). */
export const GRANT_IMAGES: i32 = 5;
/** A copy of the boot info view (which names the modules). */
export const GRANT_BOOT_INFO: i32 = 6;
/** A call capability to init's control Receiver (HALT), badge: the service's number. */
export const GRANT_CONTROL: i32 = 7;
/** `publish=NAME`: a Cappage named NAME it may fill (read and write); `use=NAME`: the same Cappage, read only. */
export const GRANT_PUBLISH: i32 = 8;
export const GRANT_USE: i32 = 9;
/** `boot-modules`: two slots, the Images Cappage (read only: each Image can be mapped, and spawned) and the boot info's view that names them. */
export const GRANT_BOOT_MODULES: i32 = 10;
/** `pager=PAGES`: the receive capability of the paging channel, and paging starts through it with a store of PAGES pages. */
export const GRANT_PAGER: i32 = 11;
/** `log-channel`: the receive capability of init's log channel, where init sends its own lines (the log service's). */
export const GRANT_LOG_CHANNEL: i32 = 12;
/**
 * `read=NAME`: the Cappage NAME, read only and narrowed to its slot 1 (CAPPAGE_NARROW), where a
 * publisher puts what it offers to readers (the file system: its read-only root). The service
 * sees it as its slot 0 and nothing else of the page: not the root with every right at slot 0.
 */
export const GRANT_READ: i32 = 14;
/**
 * `swap=NAME`: the Cappage NAME, read only and narrowed to its slot 2, where a publisher puts what
 * it offers the pager (the file system: its swap door, through which only /swap opens, docs/FS.md
 * "Who gets the root"). The pager sees it as its slot 0, and nothing else of the page.
 */
export const GRANT_SWAP: i32 = 15;
/** `kernel-info`: a copy of init's Kernel capability with no rights (KERNEL_INFO, KERNEL_PAGING_INFO: the file system's page cache watches memory). */
export const GRANT_KERNEL_INFO: i32 = 13;

/**
 * The names of the shared Cappages the config's publish= and use= grants name, in order of first
 * mention; a grant's value is an index here. init makes one Cappage per name before it starts
 * anything and keeps it, so a restarted publisher fills the same Cappage its users hold.
 */
export const sharedNames: string[] = [];

function sharedIndex(name: string): u32 {
  for (let i = 0; i < sharedNames.length; i++) if (sharedNames[i] == name) return <u32>i;
  sharedNames.push(name);
  return <u32>(sharedNames.length - 1);
}
/** The kernel's default priority (src/kernel/scheduler.ts): services run below init's 0. */
const DEFAULT_PRIORITY: u32 = 4;

/** One capability a line grants, after the registry's: a device or interrupt index, or a Memory's pages. */
export class Grant {
  constructor(readonly kind: i32, readonly value: u32) {}
}

export class ServiceEntry {
  grants: Grant[] = [];
  /** The pages of its own Memory (memory=PAGES), or 0: it lives in init's. */
  memoryPages: u32 = 0;
  /** Its priority (priority=N); 0 is init's own. */
  priority: u32 = DEFAULT_PRIORITY;
  /** When it ends, the system halts (the console session: its shell's `halt` or end of input). */
  session: bool = false;
  /** It may ask init, through its control capability, to kill, suspend or resume a service (the front panel's driver). */
  supervise: bool = false;
  /** Its pin level (pin=N, KERNEL_SET_PIN), or -1: the kernel's default (pageable). */
  pin: i32 = -1;
  /** pager=PAGES: it is the pager, with a store of that many pages (0: it is not). */
  pagerPages: u32 = 0;
  /** paging=clock|aging on the pager's line: the eviction policy process 1 chooses (-1: the kernel's default, clock). */
  pagingPolicy: i32 = -1;
  /**
   * Its arguments (the fields after `--`), packed once for PROCESS_SET_ARGS with the module's name
   * as argument 0, so that a restart allocates nothing; null when the line has none.
   */
  argsBlock: Uint8Array | null = null;
  argc: u32 = 0;
  /**
   * A `start` line for a program added with `install` (module INSTALLED): its fields, whose
   * manifest and grants are read from the disk when its turn comes (./installed.ts); then its
   * Image (0: not read yet), kept for its restarts.
   */
  startFields: string[] | null = null;
  image: i32 = 0;
  constructor(readonly line: i32, public kind: string, readonly name: string, readonly module: i32) {}

  get installed(): bool {
    return this.module == INSTALLED;
  }

  get isRegistry(): bool {
    return this.name == REGISTRY_NAME;
  }
}

/** The module index of a `start` line for an installed program, not a boot module. */
export const INSTALLED: i32 = -1;

/** The services of the config, in the order to start them (the registry first). */
export function parseConfig(text: string, info: BootInfo, manifests: BootManifests | null = null): ServiceEntry[] {
  const entries = new Array<ServiceEntry>();
  const all = lines(text);
  for (let i = 0; i < all.length; i++) {
    if (all[i].length > MAX_LINE_BYTES) continue;
    const f = fields(all[i]);
    if (f.length < 1 || f[0] != DENY_KIND) continue;
    if (f.length == 1) {
      lineBegin("init: config line ");
      lineAddI32(i + 1);
      lineAdd(": expected: deny CAP...; skipped");
      linePrint(STDOUT, true);
    }
    for (let k = 1; k < f.length; k++) denied.push(new Denial(f[k], i + 1));
  }
  for (let i = 0; i < all.length; i++) {
    if (all[i].length > MAX_LINE_BYTES) {
      lineBegin("init: config line ");
      lineAddI32(i + 1);
      lineAdd(": " + all[i].length.toString() + " characters, more than a line may have (" + MAX_LINE_BYTES.toString() + "); skipped");
      linePrint(STDOUT, true);
      continue;
    }
    const f = fields(all[i]);
    if (f.length == 0) continue;
    if (f[0] == DENY_KIND) continue; // read first, above: a policy holds for the whole config
    const why = f[0] == START_KIND ? parseStart(entries, i + 1, f, info, manifests) : parseLine(entries, i + 1, f, info);
    if (why.length > 0) {
      lineBegin("init: config line ");
      lineAddI32(i + 1);
      lineAdd(": " + why + "; skipped: ");
      lineAdd(all[i].trim());
      // A device this machine lacks (--share, a browser's panel) is what the config expects: not a failure.
      linePrint(STDOUT, !why.startsWith("no device named"));
    }
  }
  putRegistryFirst(entries);
  return entries;
}

/** Adds the service a line names to `entries`: "" when it did, else why not. */
function parseLine(entries: ServiceEntry[], lineNumber: i32, f: string[], info: BootInfo): string {
  // `module NAME`: a boot module nothing starts (the process manager spawns it by name).
  if (f[0] == MODULE_KIND) {
    if (f.length != 2) return "expected: module NAME";
    return info.module(f[1]) == null ? "no boot module named " + f[1] : "";
  }
  if (f.length < 3) return "expected: KIND NAME MODULE GRANT...";
  const kind = f[0];
  if (kind != "driver" && kind != "service") return "unknown kind \"" + kind + "\" (start, driver, service, module or deny)";
  const name = f[1];
  if (String.UTF8.byteLength(name) > MAX_NAME_BYTES) return "a name has at most " + MAX_NAME_BYTES.toString() + " bytes";
  for (let i = 0; i < entries.length; i++) {
    if (entries[i].name == name) return "the name " + name + " is taken by line " + entries[i].line.toString();
  }
  const module = info.module(f[2]);
  if (module == null) return "no boot module named " + f[2];
  if (entries.length == MAX_SERVICES) return "more than " + MAX_SERVICES.toString() + " services";
  const entry = new ServiceEntry(lineNumber, kind, name, module.index);
  let i = 3;
  for (; i < f.length && f[i] != ARGS_MARK; i++) {
    const why = parseGrant(entry, f[i], info);
    if (why.length > 0) return why;
  }
  if (i < f.length) {
    const args = [f[2]];
    for (i++; i < f.length; i++) args.push(f[i]);
    const block = packArgs(args);
    if (block.length > ARGS_IN_MESSAGE_BYTES) return "the arguments take more than " + ARGS_IN_MESSAGE_BYTES.toString() + " bytes";
    entry.argsBlock = block;
    entry.argc = <u32>args.length;
  }
  entries.push(entry);
  return "";
}

/**
 * `start NAME [OVERRIDE...] [-- ARGS]`: boot module NAME, started with what its manifest asks for
 * (its capabilities in the order of its lines), if the boot check let it and the system's policy
 * allows it. Overrides change how it runs, never what it holds: priority=N, pin=N, paging=POLICY,
 * memory=PAGES (the quota of the Memory its manifest asks for).
 */
function parseStart(entries: ServiceEntry[], lineNumber: i32, f: string[], info: BootInfo, manifests: BootManifests | null): string {
  if (f.length < 2) return "expected: start NAME [OVERRIDE...] [-- ARGS]";
  const name = f[1];
  const module = info.module(name);
  if (module == null) {
    // An installed program, not a boot module: its manifest is on the disk, read at its turn.
    for (let i = 0; i < entries.length; i++) if (entries[i].name == name) return "the name " + name + " is taken by line " + entries[i].line.toString();
    if (entries.length == MAX_SERVICES) return "more than " + MAX_SERVICES.toString() + " services";
    const entry = new ServiceEntry(lineNumber, "service", name, INSTALLED);
    entry.startFields = f;
    entries.push(entry);
    return "";
  }
  if (manifests == null) return name + " has no manifest (a line of grants starts it: service NAME MODULE GRANT...)";
  const found = manifests.of(name);
  if (found == null) return name + " has no manifest (a line of grants starts it: service NAME MODULE GRANT...)";
  const manifest = found!;
  const refused = manifests.refusal(name);
  if (refused.length > 0) return name + " was refused at boot: " + refused;
  if (manifest.error.length > 0) return "its manifest does not parse: " + manifest.error;
  const entry = new ServiceEntry(lineNumber, manifest.kind, name, module.index);
  const why = grantFromManifest(entry, f, manifest, entries, info);
  if (why.length > 0) return why;
  entries.push(entry);
  return "";
}

/**
 * What `start` line `f` gives `entry` from `manifest`: its capabilities in the order of its
 * lines, if the system's policy allows them (`entries`: the services before it), then the line's
 * overrides and arguments. "" or why it is not started.
 */
export function grantFromManifest(entry: ServiceEntry, f: string[], manifest: Manifest, entries: ServiceEntry[], info: BootInfo): string {
  const name = entry.name;
  if (manifest.kind == "program") return name + " is a program: init starts services and drivers";
  entry.kind = manifest.kind;
  for (let i = 0; i < entries.length; i++) {
    if (entries[i] === entry) continue;
    if (entries[i].name == name && !entry.installed) return "the name " + name + " is taken by line " + entries[i].line.toString();
    if (manifest.hasCap("session") && entries[i].session) return "policy: one session, and line " + entries[i].line.toString() + " has it";
    if (manifest.pagerPages > 0 && entries[i].pagerPages > 0) return "policy: one pager, and line " + entries[i].line.toString() + " is it";
  }
  if (!entry.installed && entries.length == MAX_SERVICES) return "more than " + MAX_SERVICES.toString() + " services";
  for (let i = 0; i < manifest.slots.length; i++) {
    const by = deniedBy(manifest.slots[i].grant);
    if (by != 0) return "policy: config line " + by.toString() + " denies " + manifest.slots[i].grant + ", which its manifest asks for (line " + manifest.slots[i].line.toString() + ")";
  }
  for (let i = 0; i < manifest.caps.length; i++) {
    const by = deniedBy(manifest.caps[i]);
    if (by != 0) return "policy: config line " + by.toString() + " denies " + manifest.caps[i] + ", which its manifest asks for";
  }
  for (let i = 0; i < manifest.slots.length; i++) {
    const why = parseGrant(entry, manifest.slots[i].grant, info);
    if (why.length > 0) return why;
  }
  if (manifest.hasCap("session")) parseGrant(entry, "session", info);
  if (manifest.hasCap("supervise")) parseGrant(entry, "supervise", info);
  if (manifest.pin >= 0) entry.pin = manifest.pin;
  let i = 2;
  for (; i < f.length && f[i] != ARGS_MARK; i++) {
    const why = parseOverride(entry, f[i]);
    if (why.length > 0) return why;
  }
  if (i < f.length) {
    const args = [name];
    for (i++; i < f.length; i++) args.push(f[i]);
    const block = packArgs(args);
    if (block.length > ARGS_IN_MESSAGE_BYTES) return "the arguments take more than " + ARGS_IN_MESSAGE_BYTES.toString() + " bytes";
    entry.argsBlock = block;
    entry.argc = <u32>args.length;
  }
  return "";
}

/** One override of a start line: how the service runs, not what it holds. */
function parseOverride(entry: ServiceEntry, field: string): string {
  const memory = valueOf(field, "memory");
  if (memory != null) {
    const pages = parseCount(memory);
    if (pages <= 0) return "memory=" + memory + " is not a number of pages";
    for (let g = 0; g < entry.grants.length; g++) {
      if (entry.grants[g].kind != GRANT_MEMORY) continue;
      entry.grants[g] = new Grant(GRANT_MEMORY, <u32>pages);
      entry.memoryPages = pages;
      return "";
    }
    return "memory= changes the Memory its manifest asks for, and it asks for none";
  }
  if (field.startsWith("priority=") || field.startsWith("pin=") || field.startsWith("paging=")) {
    return parseGrant(entry, field, new BootInfo());
  }
  return "unknown override \"" + field + "\" (memory=PAGES, priority=N, pin=N or paging=POLICY; what it holds is its manifest's)";
}

function parseGrant(entry: ServiceEntry, grant: string, info: BootInfo): string {
  if (grant == "registry") return ""; // every process but the registry has it at slot 2 anyway
  if (grant == "session") {
    entry.session = true;
    return "";
  }
  if (grant == "supervise") {
    entry.supervise = true;
    return "";
  }
  const pin = valueOf(grant, "pin");
  if (pin != null) {
    const level = parseCount(pin);
    if (level < 0 || level > 2 || pin.length != 1) return "pin=" + pin + " is not 0, 1 or 2";
    entry.pin = level;
    return "";
  }
  const paging = valueOf(grant, "paging");
  if (paging != null) {
    if (paging != "clock" && paging != "aging") return "paging=" + paging + " is not clock or aging";
    entry.pagingPolicy = paging == "clock" ? 0 : 1;
    return "";
  }
  const pager = valueOf(grant, "pager");
  if (pager != null) {
    const pages = parseCount(pager);
    if (pages <= 0) return "pager=" + pager + " is not a number of pages";
    entry.pagerPages = <u32>pages;
    entry.grants.push(new Grant(GRANT_PAGER, <u32>pages));
    return "";
  }
  const plain = plainGrant(grant);
  if (plain != 0) {
    entry.grants.push(new Grant(plain, 0));
    return "";
  }
  const device = valueOf(grant, "device");
  const interrupt = valueOf(grant, "interrupt");
  const memory = valueOf(grant, "memory");
  const priority = valueOf(grant, "priority");
  if (priority != null) {
    const level = parseCount(priority);
    if (level < 1 || level > 7) return "priority=" + priority + " is not 1 to 7";
    entry.priority = <u32>level;
    return "";
  }
  if (device != null || interrupt != null) {
    const name = device != null ? device : interrupt!;
    const found = info.device(name);
    if (found == null) return "no device named " + name;
    entry.grants.push(new Grant(device != null ? GRANT_DEVICE : GRANT_INTERRUPT, found.index));
    return "";
  }
  if (grant == "boot-modules") {
    entry.grants.push(new Grant(GRANT_BOOT_MODULES, 0));
    return "";
  }
  const publish = valueOf(grant, "publish");
  const use = valueOf(grant, "use");
  const read = valueOf(grant, "read");
  const swap = valueOf(grant, "swap");
  if (publish != null || use != null || read != null || swap != null) {
    const name = publish != null ? publish : use != null ? use : read != null ? read! : swap!;
    if (name.length == 0) return "publish=, use=, read= and swap= need a name";
    entry.grants.push(new Grant(publish != null ? GRANT_PUBLISH : use != null ? GRANT_USE : read != null ? GRANT_READ : GRANT_SWAP, sharedIndex(name)));
    return "";
  }
  if (memory != null) {
    const pages = parseCount(memory);
    if (pages <= 0) return "memory=" + memory + " is not a number of pages";
    if (entry.memoryPages != 0) return "memory is granted twice";
    entry.memoryPages = pages;
    entry.grants.push(new Grant(GRANT_MEMORY, pages));
    return "";
  }
  return "unknown grant \"" + grant + "\" (registry, device=NAME, interrupt=NAME, memory=PAGES, priority=N, kernel, kernel-info, images, bootinfo, control, publish=NAME, use=NAME, read=NAME, swap=NAME, boot-modules, log-channel, pin=N, pager=PAGES, paging=POLICY, supervise or session)";
}

/** The grants that are one word with no value; 0 for any other field. */
function plainGrant(grant: string): i32 {
  if (grant == "kernel") return GRANT_KERNEL;
  if (grant == "kernel-info") return GRANT_KERNEL_INFO;
  if (grant == "images") return GRANT_IMAGES;
  if (grant == "bootinfo") return GRANT_BOOT_INFO;
  if (grant == "control") return GRANT_CONTROL;
  if (grant == "log-channel") return GRANT_LOG_CHANNEL;
  return 0;
}

/** The registry must start before anyone calls it: move it to the front (and say so) if it is not there. */
function putRegistryFirst(entries: ServiceEntry[]): void {
  for (let i = 0; i < entries.length; i++) {
    if (!entries[i].isRegistry) continue;
    if (i == 0) return;
    const registry = entries[i];
    lineBegin("init: config line ");
    lineAddI32(registry.line);
    lineAdd(": the registry must come first; starting it first");
    linePrint(STDOUT, true);
    for (let j = i; j > 0; j--) entries[j] = entries[j - 1];
    entries[0] = registry;
    return;
  }
  if (entries.length > 0) {
    lineBegin("init: the config starts no ");
    lineAdd(REGISTRY_NAME);
    lineAdd(": nobody will answer registry calls");
    linePrint(STDOUT, true);
  }
}
