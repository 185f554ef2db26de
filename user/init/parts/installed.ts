// A service added with `install` (docs/MANIFESTS.md "Installing"), started by a config's
// `start NAME` where NAME is no boot module: its record /etc/manifests/NAME and its binary
// /bin/NAME are read from the file system when its turn comes (the file system must be started
// by an earlier line and publish its root: publish=fs), and checked again as the installer checks
// a program, against the boot modules: the binary carries the manifest its record holds, the
// manifest parses and passes the installer's checks, and its code loads (MEMORY_CREATE_IMAGE, with
// all the loader's checks). The Image is kept for its restarts; the file is read once a boot.
import {
  msgBegin, msgAddWord, msgAddCap, msgInvoke, msgCap, capDrop, statusText, OP_MEMORY_CREATE_IMAGE,
} from "../../lib";
import { FsClient, FS_RIGHT_READ, fsRoot } from "../../lib/fs-client";
import { FS_E_NOT_FOUND } from "../../lib/fs-protocol";
import { Manifest, MAX_MANIFEST_BYTES, manifestTextIn, manifestSectionError, parseManifest } from "../../lib/manifest";
import { InstallContext, installRefusals } from "../../lib/manifest-check";
import { BootManifests } from "./manifests";

/** The largest binary read (what one MEMORY_CREATE_IMAGE takes). */
const MAX_BINARY_BYTES: u64 = 16 << 20;
/** How long to wait for the file system to publish its root: 300 tries, 10 ms apart. */
const ROOT_TRIES: i32 = 300;

/** An installed program, read and checked: its Image (0 when refused) and manifest, or why not. */
export class InstalledProgram {
  image: i32 = 0;
  manifest: Manifest | null = null;
  why: string = "";
  /** The record is missing: it was never installed (or was uninstalled), not a broken install. */
  absent: bool = false;
}

/**
 * Reads and checks installed program `name` through the file system whose root is published in
 * the Cappage `roots`, paying with the Memory `memory`; `boot`: the boot modules' manifests, the
 * installed set it is checked against; `memoryPages`: what the machine has.
 */
export function loadInstalled(name: string, roots: i32, memory: i32, boot: BootManifests | null, memoryPages: u32): InstalledProgram {
  const out = new InstalledProgram();
  const root = fsRoot(roots, 0, ROOT_TRIES);
  if (root <= 0) {
    out.why = "no file system to read it from: " + statusText(root);
    return out;
  }
  const record = new FsClient(memory, 1);
  const recordPath = "/etc/manifests/" + name;
  const text = readWhole(record, root, recordPath, <u64>MAX_MANIFEST_BYTES);
  if (text < 0) {
    out.absent = text == FILE_MISSING;
    out.why = out.absent ? "it is not installed (no " + recordPath + ")" : recordPath + ": " + readWhy;
    done(record, root);
    return out;
  }
  const recordText = String.UTF8.decodeUnsafe(record.address, <usize>text);
  const m = parseManifest(recordText);
  out.manifest = m;
  if (m.error.length > 0) out.why = "its record does not parse: " + m.error;
  else if (m.name != name) out.why = "its record names the program " + m.name;
  else if (m.kind == "program") out.why = name + " is a program: init starts services and drivers";
  if (out.why.length == 0) {
    const context = new InstallContext();
    context.memoryPages = memoryPages;
    if (boot != null) {
      for (let i = 0; i < boot.manifests.length; i++) {
        const other = boot.manifests[i];
        if (other != null && other.error.length == 0 && boot.refusals[i].length == 0 && other.name != name) context.installed.push(other!);
      }
    }
    const refusals = installRefusals(m, context);
    if (refusals.length > 0) out.why = refusals.join("; ");
  }
  dispose(record);
  if (out.why.length > 0) {
    capDrop(root);
    return out;
  }
  out.image = loadBinary(name, root, memory, recordText, out);
  capDrop(root);
  return out;
}

const FILE_MISSING: i32 = -1000;
let readWhy = "";

/** Reads `path` under `root` whole into `client`'s buffer (grown to fit, at most `limit` bytes): its size, or FILE_MISSING, or another negative (readWhy says why). */
function readWhole(client: FsClient, root: i32, path: string, limit: u64): i32 {
  readWhy = "";
  const file = client.open(root, path, FS_RIGHT_READ);
  if (file < 0) {
    readWhy = statusText(file);
    return file == FS_E_NOT_FOUND ? FILE_MISSING : file;
  }
  const size = client.size;
  if (size == 0 || size > limit) {
    client.close(file);
    readWhy = size == 0 ? "an empty file" : size.toString() + " bytes, more than " + limit.toString();
    return -1;
  }
  let got: u64 = 0;
  while (got < size) {
    const n = client.read(file, got, <u32>(size - got), <u32>got);
    if (n <= 0) {
      client.close(file);
      readWhy = "reading it: " + statusText(n);
      return -1;
    }
    got += <u64>n;
  }
  client.close(file);
  return <i32>size;
}

/** Frees the client's buffer (its Region's owner). */
function dispose(client: FsClient): void {
  if (client.region > 0) capDrop(client.region);
}

function done(client: FsClient, root: i32): void {
  dispose(client);
  capDrop(root);
}

/** Reads /bin/NAME, checks it carries the record's manifest, and loads it: the Image, or 0 (out.why says why). */
function loadBinary(name: string, root: i32, memory: i32, recordText: string, out: InstalledProgram): i32 {
  const path = "/bin/" + name;
  const probe = new FsClient(memory, 1);
  const file = probe.open(root, path, FS_RIGHT_READ);
  const size = file < 0 ? 0 : probe.size;
  if (file >= 0) probe.close(file);
  dispose(probe);
  if (file < 0 || size == 0 || size > MAX_BINARY_BYTES) {
    out.why = path + ": " + (file < 0 ? statusText(file) : size == 0 ? "an empty file" : "larger than 16 MiB");
    return 0;
  }
  const binary = new FsClient(memory, <u32>((size + 4095) >> 12));
  const n = readWhole(binary, root, path, MAX_BINARY_BYTES);
  if (n < 0) {
    out.why = path + ": " + readWhy;
    dispose(binary);
    return 0;
  }
  const carried = manifestTextIn(binary.address, <u32>n);
  if (carried == null || carried! != recordText) {
    out.why = path + " does not carry the manifest its record holds" + (manifestSectionError.length > 0 ? " (" + manifestSectionError + ")" : "");
    dispose(binary);
    return 0;
  }
  msgBegin(OP_MEMORY_CREATE_IMAGE);
  msgAddWord(<u32>n);
  const bytes = String.UTF8.encode(name);
  const named = Uint8Array.wrap(bytes);
  for (let i = 0; i < min(named.length, 32); i += 4) {
    let w: u32 = 0;
    for (let b = 0; b < 4 && i + b < named.length; b++) w |= <u32>named[i + b] << (8 * b);
    msgAddWord(w);
  }
  msgAddCap(<u32>binary.region);
  const status = msgInvoke(memory);
  const image = status < 0 ? 0 : msgCap(0);
  dispose(binary);
  if (status < 0) out.why = "its code does not load: " + statusText(status);
  return image;
}
