/**
 * The modules a config names, each once, in order: the third field of each service line, the
 * second of each `start NAME` line (a module started from its manifest), and of each `module NAME` line (a module to boot with that nothing starts: programs the
 * process manager spawns by name). Every host assembles its boot image from this list.
 */
export function modulesOf(config: string): string[] {
  const names: string[] = [];
  for (const raw of config.split("\n")) {
    const fields = raw.replace(/#.*/, "").trim().split(/\s+/);
    const name = fields[0] === "module" || fields[0] === "start" ? fields[1] : (fields[0] === "service" || fields[0] === "driver") && fields.length >= 3 ? fields[2] : undefined;
    if (name && !names.includes(name)) names.push(name);
  }
  return names;
}

/**
 * The names only `start` lines give (no service, driver or module line names them): a `start NAME`
 * may start a program added with `install`, which init reads from the disk (docs/MANIFESTS.md "At
 * boot"), so a host leaves such a name out of the boot image when it has no built binary of it.
 */
export function startedOnly(config: string): Set<string> {
  const started = new Set<string>();
  const others = new Set<string>();
  for (const raw of config.split("\n")) {
    const fields = raw.replace(/#.*/, "").trim().split(/\s+/);
    if (fields[0] === "start" && fields[1]) started.add(fields[1]);
    else if (fields[0] === "module" && fields[1]) others.add(fields[1]);
    else if ((fields[0] === "service" || fields[0] === "driver") && fields.length >= 3) others.add(fields[2]!);
  }
  for (const name of others) started.delete(name);
  return started;
}
