// The boot modules' manifests (docs/MANIFESTS.md): read from each module's Image (mapped
// read-only: init holds the Images) and checked as the installer checks a program, against the
// other boot modules, before a `start` line may start one. A module the check refuses is not
// started, and the log says every reason. Only when the config has a `start` line: a config of
// hand-written grants alone boots as it always did.
import {
  msgBegin, msgAddWord, msgInvoke, msgCap, msgWord, capDrop, OP_CAPPAGE_GET, OP_IMAGE_MAP, OP_IMAGE_UNMAP, errorName, lineBegin, lineAdd, linePrint, STDOUT,
} from "../../lib";
import { Manifest, manifestTextIn, manifestSectionError, parseManifest } from "../../lib/manifest";
import { InstallContext, installRefusals } from "../../lib/manifest-check";
import { BootInfo } from "./boot-info";

export class BootManifests {
  /** By boot module: its manifest, or null (it has none, or its Image could not be read). */
  readonly manifests: Array<Manifest | null> = [];
  /** By boot module: why it may not run ("" when it may). */
  readonly refusals: string[] = [];

  constructor(readonly info: BootInfo) {}

  /** The manifest of the boot module named `name`, or null. */
  of(name: string): Manifest | null {
    for (let i = 0; i < this.info.modules.length; i++) if (this.info.modules[i].name == name) return this.manifests[i];
    return null;
  }

  /** Why the boot module named `name` was refused ("" when it was not). */
  refusal(name: string): string {
    for (let i = 0; i < this.info.modules.length; i++) if (this.info.modules[i].name == name) return this.refusals[i];
    return "";
  }
}

/** Reads every boot module's manifest from the Images Cappage `images`, and checks them as one install. */
export function readBootManifests(info: BootInfo, images: i32, memoryPages: u32): BootManifests {
  const boot = new BootManifests(info);
  for (let i = 0; i < info.modules.length; i++) {
    const module = info.modules[i];
    let why = "";
    let manifest: Manifest | null = null;
    msgBegin(OP_CAPPAGE_GET);
    msgAddWord(<u32>module.index);
    let status = msgInvoke(images);
    if (status >= 0) {
      const image = msgCap(0);
      msgBegin(OP_IMAGE_MAP);
      status = msgInvoke(image);
      const size = msgWord(0);
      const address = <usize>msgWord(1);
      if (status >= 0) {
        const text = manifestTextIn(address, size);
        if (text != null) manifest = parseManifest(text!);
        else if (manifestSectionError.length > 0) why = "its manifest section is malformed: " + manifestSectionError;
        // The view goes with the capability (IMAGE_UNMAP): process 1 is never paged out, and the
        // image's frames it read would stay as long as it runs.
        msgBegin(OP_IMAGE_UNMAP);
        if (msgInvoke(image) < 0) capDrop(image);
      } else capDrop(image);
    }
    if (status < 0) why = "its Image cannot be read: " + errorName(status);
    if (manifest != null && manifest.error.length == 0 && manifest.name != module.name) why = "its manifest names the program " + manifest.name;
    boot.manifests.push(manifest);
    boot.refusals.push(why);
    if (why.length > 0) {
      lineBegin("init: boot module ");
      lineAdd(module.name);
      lineAdd(" refused: ");
      lineAdd(why);
      linePrint(STDOUT, true);
    }
  }
  check(boot, memoryPages);
  return boot;
}

/**
 * Checks each module with a manifest against the others not refused, until no more is refused: a
 * module whose only provider was refused is refused in turn. Two drivers of one device both are.
 */
function check(boot: BootManifests, memoryPages: u32): void {
  for (let round = 0; round <= boot.manifests.length; round++) {
    const context = new InstallContext();
    context.memoryPages = memoryPages;
    for (let i = 0; i < boot.manifests.length; i++) {
      const m = boot.manifests[i];
      if (m != null && m.error.length == 0 && boot.refusals[i].length == 0) context.installed.push(m);
    }
    let more = false;
    for (let i = 0; i < boot.manifests.length; i++) {
      const m = boot.manifests[i];
      if (m == null || boot.refusals[i].length > 0) continue;
      const others = new InstallContext();
      others.memoryPages = memoryPages;
      for (let k = 0; k < context.installed.length; k++) if (context.installed[k] !== m) others.installed.push(context.installed[k]);
      const why = installRefusals(m, others);
      if (why.length == 0) continue;
      boot.refusals[i] = why.join("; ");
      more = true;
      lineBegin("init: boot module ");
      lineAdd(boot.info.modules[i].name);
      lineAdd(" refused: ");
      lineAdd(boot.refusals[i]);
      linePrint(STDOUT, true);
    }
    if (!more) return;
  }
}
