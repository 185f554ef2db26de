// The installer's checks (docs/MANIFESTS.md "Installing"), shared by process 1 (the boot modules,
// at every boot) and the shell's `install` and `uninstall`: a program may be installed when its
// manifest parses, what it drives exists and nobody else drives it, every service it needs is
// provided by an installed program speaking a compatible contract, nothing it provides is
// provided already, and it asks for no more memory than the machine has. A refusal lists every
// reason, not the first.
import { Manifest, contractsCompatible } from "./manifest";

/** What the program is checked against. */
export class InstallContext {
  /** The manifests of the programs installed (the program itself left out). */
  installed: Manifest[] = [];
  /** The machine's devices by name; null: not checked (the boot modules, which a machine may lack some of). */
  devices: string[] | null = null;
  /** Pages of memory the machine has for programs. */
  memoryPages: u32 = 0;
}

/** Every reason `m` may not be installed in `context` (none: it may). */
export function installRefusals(m: Manifest, context: InstallContext): string[] {
  const why = new Array<string>();
  if (m.error.length > 0) {
    why.push("its manifest does not parse: " + m.error);
    return why; // nothing else can be read from it
  }
  // The program's own record (installed already) is the one reason it gives: the rest is checked against the others.
  const installed = new Array<Manifest>();
  for (let i = 0; i < context.installed.length; i++) {
    const other = context.installed[i];
    if (other.name == m.name) why.push(m.name + " " + other.version + " is installed already (uninstall it first)");
    else installed.push(other);
  }
  if (<u32>m.memoryPages > context.memoryPages) {
    why.push("it needs " + m.memoryPages.toString() + " pages of memory; the machine has " + context.memoryPages.toString());
  }
  claims(m, m.devices, "device", installed, context.devices, why);
  claims(m, m.interrupts, "interrupt line", installed, context.devices, why);
  for (let i = 0; i < m.provides.length; i++) {
    const service = m.provides[i].service;
    for (let k = 0; k < installed.length; k++) {
      for (let p = 0; p < installed[k].provides.length; p++) {
        if (installed[k].provides[p].service == service) why.push("service " + service + " is provided by " + installed[k].name + " already");
      }
    }
  }
  for (let i = 0; i < m.needs.length; i++) {
    const need = m.needs[i];
    if (need.optional) continue;
    const missing = unmet(m, i, installed);
    if (missing.length > 0) why.push(missing);
  }
  return why;
}

/** `m`'s devices (or interrupt lines) must exist and be driven by no installed driver. */
function claims(m: Manifest, names: string[], what: string, installed: Manifest[], devices: string[] | null, why: string[]): void {
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (devices != null && !devices.includes(name)) why.push("no " + what + " named " + name + " on this machine");
    for (let k = 0; k < installed.length; k++) {
      const other = installed[k];
      const theirs = what == "device" ? other.devices : other.interrupts;
      if (theirs.includes(name)) why.push(what + " " + name + " is driven by " + other.name + " already");
    }
  }
}

/** Why need `index` of `m` is not met by `installed` ("" when it is). */
function unmet(m: Manifest, index: i32, installed: Manifest[]): string {
  const need = m.needs[index];
  let speaks = "";
  for (let k = 0; k < installed.length; k++) {
    for (let p = 0; p < installed[k].provides.length; p++) {
      const offer = installed[k].provides[p];
      if (offer.service != need.service) continue;
      if (contractsCompatible(need, offer)) return "";
      speaks = installed[k].name + " provides it speaking " + contractText(offer.contract, offer.digest);
    }
  }
  const wanted = "it needs service " + need.service + " speaking " + contractText(need.contract, need.digest);
  return speaks.length > 0 ? wanted + "; " + speaks : wanted + ", which no installed program provides";
}

function contractText(name: string, digest: string): string {
  return digest.length > 0 ? name + "@" + digest : name;
}

/**
 * Why `name` may not be uninstalled from `installed`: each program that needs, not optionally, a
 * service only `name` provides.
 */
export function uninstallRefusals(name: string, installed: Manifest[]): string[] {
  const why = new Array<string>();
  const rest = new Array<Manifest>();
  let found = false;
  for (let i = 0; i < installed.length; i++) {
    if (installed[i].name == name) found = true;
    else rest.push(installed[i]);
  }
  if (!found) {
    why.push(name + " is not installed");
    return why;
  }
  for (let i = 0; i < rest.length; i++) {
    const m = rest[i];
    for (let n = 0; n < m.needs.length; n++) {
      if (m.needs[n].optional) continue;
      if (unmet(m, n, installed).length == 0 && unmet(m, n, rest).length > 0) {
        why.push(m.name + " needs service " + m.needs[n].service + ", which " + name + " provides");
      }
    }
  }
  return why;
}
