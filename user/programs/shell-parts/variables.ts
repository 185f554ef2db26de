// The shell's variables (docs/PROGRAMS.md "The shell"): NAME=value sets one, `export` marks it
// for the environment of the programs the shell starts, `unset` removes it. The exported ones,
// as NAME=value strings in name order, are every program's environment (JOB_ARGS), with what a
// command's own NAME=value words add.
export class Variables {
  private readonly values: Map<string, string> = new Map<string, string>();
  private readonly exported: Set<string> = new Set<string>();

  has(name: string): bool {
    return this.values.has(name);
  }

  /** The value, or "" when it is not set. */
  get(name: string): string {
    return this.values.has(name) ? this.values.get(name) : "";
  }

  set(name: string, value: string): void {
    this.values.set(name, value);
  }

  export(name: string): void {
    this.exported.add(name);
    if (!this.values.has(name)) this.values.set(name, "");
  }

  unset(name: string): void {
    this.values.delete(name);
    this.exported.delete(name);
  }

  /** NAME=value for each exported variable and each of `extra` (which replaces a name already there), in name order. */
  environment(extra: string[] = []): string[] {
    const names = this.exported.values().sort();
    const out = new Array<string>();
    for (let i = 0; i < names.length; i++) {
      let overridden = false;
      for (let j = 0; j < extra.length; j++) if (extra[j].startsWith(names[i] + "=")) overridden = true;
      if (!overridden) out.push(names[i] + "=" + this.get(names[i]));
    }
    for (let j = 0; j < extra.length; j++) out.push(extra[j]);
    return out.sort();
  }
}
