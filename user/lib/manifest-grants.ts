// What the process manager puts at slots 2 and 3 of a program the shell or dbg runs (docs/MANIFESTS.md
// "Running a program from the shell"): a binary from a file without a manifest gets the registry
// and the process manager with a session of its own (a program's: its own jobs, no halt; it used
// to get the shell's session, and so could kill, debug and halt: redteam2's finding 9); a boot
// module with no record to read (a machine without a disk) both, the registry and the shell's
// session, as boot modules are the system's own; one with a manifest only what it
// asks for: `cap registry` (it looks services up itself), `needs proc ProcessManager` (the tools
// that list, kill and debug the shell's jobs). What it does not ask for holds nothing it can use.
import { Manifest, parseManifest } from "./manifest";
import { PROC_GRANT_PROC, PROC_GRANT_REGISTRY, PROC_GRANTS_NO_MANIFEST, PROC_GRANTS_STANDARD } from "./proc-client";

/** The service a program needs that comes at slot 3, with the shell's session, not from slot 11. */
export const PROC_SERVICE = "proc";

/** The spawn's grants (PROC_GRANT_REGISTRY, PROC_GRANT_PROC) for a program with `manifest` (null: a boot module with no record). */
export function procGrantsOf(manifest: Manifest | null): u32 {
  if (manifest == null) return PROC_GRANTS_STANDARD; // a boot module with no record: the system's own
  let grants: u32 = 0;
  if (manifest.hasCap("registry")) grants |= PROC_GRANT_REGISTRY;
  if (manifest.needsService(PROC_SERVICE)) grants |= PROC_GRANT_PROC;
  return grants;
}

/** As procGrantsOf, for a binary's manifest text (null: it has none); one that does not parse gets nothing (it will not run). */
export function procGrantsOfText(text: string | null): u32 {
  if (text == null) return PROC_GRANTS_NO_MANIFEST;
  const manifest = parseManifest(text!);
  return manifest.error.length > 0 ? 0 : procGrantsOf(manifest);
}
