// `install FILE` and `uninstall NAME` (docs/MANIFESTS.md "Installing"): the installer, in the
// shell, which holds what it needs (the file system's root, a Memory to load in, the boot info's
// devices, the process manager for the machine's memory). A program is installed when its
// manifest (the binary's dogma.manifest section) parses, its code loads (the loader's checks, on
// a copy the kernel loads and the installer drops), and the checks of user/lib/manifest-check.ts
// pass against the record of what is installed: /etc/manifests/NAME, one file per program (the
// file system writes the boot modules' at first boot). Then the binary becomes /bin/NAME and its
// manifest /etc/manifests/NAME. A refusal lists every reason.
import { Memory, Region, capDrop, statusText, readKernelFrames, KernelFrames, OP_KERNEL_FRAMES } from "../../lib";
import { procInspect } from "../../lib/proc-client";
import { FsClient, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_TRUNCATE, FS_E_IO, FS_KIND_FILE } from "../../lib/fs-client";
import { Manifest, MAX_MANIFEST_BYTES, manifestTextIn, manifestSectionError, parseManifest } from "../../lib/manifest";
import { InstallContext, installRefusals, uninstallRefusals } from "../../lib/manifest-check";
import { Shell } from "./exec";

/** The record of what is installed: a manifest per program. */
export const RECORD_DIR = "/etc/manifests";
/** Programs go in /bin. */
const BIN_DIR = "/bin";
/** A binary the installer takes: what MEMORY_CREATE_IMAGE loads from one Region. */
const MAX_BINARY_BYTES: u64 = 16 << 20;

/** The machine's devices by name (the boot info's `device` lines; shell.ts fills it). */
export const machineDevices: string[] = [];
/**
 * The boot modules' names (the boot info's `module` lines; shell.ts fills it). The boot image
 * serves machines with and without some devices: a boot module's driver for a device this machine
 * lacks is idle, not wrong (init skips its line), so `install -c` does not count it.
 */
export const bootModules: string[] = [];

function say(sh: Shell, name: string, message: string): void {
  sh.fds[2].write(name + ": " + message + "\n");
}

/** The manifests of the record, each parsed (one that does not parse is still a program installed). */
function installedManifests(sh: Shell): Manifest[] {
  const out = new Array<Manifest>();
  const names = sh.files.list(RECORD_DIR);
  if (names == null) return out;
  for (let i = 0; i < names!.length; i++) {
    if (names![i].directory) continue;
    // Looked at by its size first: anyone holding the root may put 2 MiB files here, which no manifest is.
    const text = sh.files.readText(RECORD_DIR + "/" + names![i].name, MAX_MANIFEST_BYTES);
    if (text == null) continue;
    const m = parseManifest(text!);
    if (m.error.length > 0 || m.name != names![i].name) continue; // not a record the installer wrote: ignored
    out.push(m);
  }
  return out;
}

/** The pages of memory the machine has (KERNEL_FRAMES, through the process manager), or 0. */
function machinePages(sh: Shell): u32 {
  if (procInspect(sh.launcher.proc, OP_KERNEL_FRAMES) < 0) return 0;
  const frames = new KernelFrames();
  readKernelFrames(frames);
  return frames.frames;
}

/** Writes `length` bytes of `client`'s buffer to `path` (made, or emptied): 0 or a status. */
function writeFrom(sh: Shell, client: FsClient, path: string, length: u32): i32 {
  const file = sh.files.open(path, FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE);
  if (file < 0) return file;
  let done: u32 = 0;
  while (done < length) {
    const n = client.write(file, <u64>done, length - done, done);
    if (n <= 0) {
      client.close(file);
      return n < 0 ? n : FS_E_IO;
    }
    done += <u32>n;
  }
  const synced = client.sync(file);
  client.close(file);
  return synced < 0 ? synced : 0;
}

/**
 * `install -c`: checks every installed program against the others and the machine, as if each
 * were installed now (a program forced out with `uninstall -f` leaves its dependents unmet; a
 * record from another machine may name devices this one lacks): 0 when all pass, else 1 with a
 * line per reason.
 */
function checkInstalled(sh: Shell): i32 {
  const installed = installedManifests(sh);
  const pages = machinePages(sh);
  let problems = 0;
  for (let i = 0; i < installed.length; i++) {
    const context = new InstallContext();
    for (let k = 0; k < installed.length; k++) if (k != i) context.installed.push(installed[k]);
    context.devices = bootModules.includes(installed[i].name) ? null : machineDevices;
    context.memoryPages = pages;
    const why = installRefusals(installed[i], context);
    for (let r = 0; r < why.length; r++) sh.out(installed[i].name + ": " + why[r] + "\n");
    problems += why.length;
  }
  if (problems == 0) sh.out(installed.length.toString() + " programs installed; every one checks out\n");
  return problems == 0 ? 0 : 1;
}

/** `install [-n] FILE`: checks the program at FILE and installs it (-n: checks only); `install -c`: checks what is installed. */
export function installBuiltin(sh: Shell, argv: string[]): i32 {
  if (argv.length == 2 && argv[1] == "-c") return checkInstalled(sh);
  let checkOnly = false;
  let path = "";
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] == "-n" && path.length == 0) checkOnly = true;
    else if (path.length == 0 && !argv[i].startsWith("-")) path = argv[i];
    else {
      say(sh, "install", "usage: install [-n] FILE | install -c");
      return 2;
    }
  }
  if (path.length == 0) {
    say(sh, "install", "usage: install [-n] FILE | install -c");
    return 2;
  }
  if (sh.files.root == 0) {
    say(sh, "install", "no file system on this machine to install in");
    return 1;
  }
  const file = sh.files.open(path, FS_RIGHT_READ);
  if (file < 0) {
    say(sh, "install", path + ": " + statusText(file));
    return 1;
  }
  const size = sh.files.client.size;
  const kind = sh.files.client.kind;
  if (kind != FS_KIND_FILE || size == 0 || size > MAX_BINARY_BYTES) {
    sh.files.client.close(file);
    say(sh, "install", path + ": " + (kind != FS_KIND_FILE ? "not a file" : size == 0 ? "an empty file is no program" : "larger than 16 MiB, the most the installer takes"));
    return 1;
  }
  // Everything the install makes (the binary's Region, the Image the loader makes) lives in a
  // Memory of its own, destroyed at the end. The Image is charged what the host keeps of it: the
  // binary, its data and several times its code (docs/MEMORY.md "What a process costs"), so the
  // limit is generous; the shell's own bounds it.
  const pages = <u32>((size + 4095) >> 12);
  const work = new Memory(sh.launcher.memory).createMemory(24 * pages + 1024);
  if (work < 0) {
    sh.files.client.close(file);
    say(sh, "install", "cannot make a Memory to work in: " + statusText(work));
    return 1;
  }
  const status = installIn(sh, work, file, path, <u32>size, pages, checkOnly);
  new Memory(work).destroy();
  capDrop(work);
  return status;
}

function installIn(sh: Shell, work: i32, file: i32, path: string, size: u32, pages: u32, checkOnly: bool): i32 {
  const buffer = new FsClient(work, pages);
  let done: u32 = 0;
  while (done < size) {
    const n = buffer.read(file, <u64>done, size - done, done);
    if (n <= 0) {
      sh.files.client.close(file);
      say(sh, "install", path + ": reading it: " + statusText(n < 0 ? n : FS_E_IO));
      return 1;
    }
    done += <u32>n;
  }
  sh.files.client.close(file);

  const why = new Array<string>();
  const text = manifestTextIn(buffer.address, size);
  let manifest: Manifest | null = null;
  if (text != null) manifest = parseManifest(text!);
  else why.push(manifestSectionError.length > 0 ? "its manifest section is malformed: " + manifestSectionError : "it has no manifest (a dogma.manifest section)");

  // The code loads: the loader's checks, on a copy made and dropped here.
  const view = new Region(buffer.region).view();
  const loadName = manifest != null && manifest!.name.length > 0 ? manifest!.name : "install";
  const image = view < 0 ? view : new Memory(work).createImage(view, size, loadName);
  if (image < 0) {
    const loadError = new Memory(work).loadError();
    why.push("its code does not load: " + (loadError.length > 0 ? loadError : statusText(image)));
  } else capDrop(image);
  if (view > 0) capDrop(view);

  if (manifest != null) {
    const context = new InstallContext();
    context.installed = installedManifests(sh);
    context.devices = machineDevices;
    context.memoryPages = machinePages(sh);
    const refusals = installRefusals(manifest!, context);
    for (let i = 0; i < refusals.length; i++) why.push(refusals[i]);
  }
  const what = manifest != null && manifest!.error.length == 0 ? manifest!.name + " " + manifest!.version : path;
  if (why.length > 0) {
    say(sh, "install", "refused " + what + ":");
    for (let i = 0; i < why.length; i++) sh.fds[2].write("  " + why[i] + "\n");
    return 1;
  }
  const m = manifest!;
  if (checkOnly) {
    sh.out(m.name + " " + m.version + " (" + m.kind + ") may be installed\n");
    return 0;
  }
  // A disk made before manifests has no record yet: its folder is made here (FS_E_EXISTS when it is there).
  sh.files.client.mkdir(sh.files.root, BIN_DIR.slice(1));
  sh.files.client.mkdir(sh.files.root, RECORD_DIR.slice(1));
  let status = writeFrom(sh, buffer, BIN_DIR + "/" + m.name, size);
  if (status < 0) {
    say(sh, "install", BIN_DIR + "/" + m.name + ": " + statusText(status));
    return 1;
  }
  // The record last: a program is installed once its manifest is there.
  const record = String.UTF8.encode(m.text);
  memory.copy(buffer.address, changetype<usize>(record), <usize>record.byteLength);
  status = writeFrom(sh, buffer, RECORD_DIR + "/" + m.name, <u32>record.byteLength);
  if (status < 0) {
    say(sh, "install", RECORD_DIR + "/" + m.name + ": " + statusText(status));
    return 1;
  }
  sh.out("installed " + m.name + " " + m.version + " (" + m.kind + ") as " + BIN_DIR + "/" + m.name + "\n");
  return 0;
}

/** `uninstall [-f] NAME`: removes /bin/NAME and its record, unless another program needs it (-f: even then). */
export function uninstallBuiltin(sh: Shell, argv: string[]): i32 {
  let force = false;
  let name = "";
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] == "-f" && name.length == 0) force = true;
    else if (name.length == 0 && !argv[i].startsWith("-")) name = argv[i];
    else {
      say(sh, "uninstall", "usage: uninstall [-f] NAME");
      return 2;
    }
  }
  if (name.length == 0 || name.includes("/")) {
    say(sh, "uninstall", "usage: uninstall [-f] NAME");
    return 2;
  }
  const installed = installedManifests(sh);
  const why = uninstallRefusals(name, installed);
  const missing = why.length == 1 && why[0].endsWith(" is not installed");
  if (missing || (why.length > 0 && !force)) {
    say(sh, "uninstall", missing ? why[0] : "refused " + name + ":");
    if (!missing) {
      for (let i = 0; i < why.length; i++) sh.fds[2].write("  " + why[i] + "\n");
      sh.fds[2].write("  (uninstall -f " + name + " removes it anyway)\n");
    }
    return 1;
  }
  const client = sh.files.client;
  // The record first: once it is gone the program is not installed, whatever else remains.
  let status = client.unlink(sh.files.root, RECORD_DIR.slice(1) + "/" + name);
  if (status < 0) {
    say(sh, "uninstall", RECORD_DIR + "/" + name + ": " + statusText(status));
    return 1;
  }
  status = client.unlink(sh.files.root, BIN_DIR.slice(1) + "/" + name);
  if (status < 0 && status != -201) say(sh, "uninstall", BIN_DIR + "/" + name + ": " + statusText(status));
  client.sync(sh.files.root);
  for (let i = 0; i < why.length; i++) sh.fds[2].write("uninstall: forced: " + why[i] + "\n");
  sh.out("uninstalled " + name + "\n");
  return 0;
}
