// The shell's variables (docs/PROGRAMS.md "The shell"): NAME=value sets one, `export` marks it
// for the environment of the programs the shell starts, `unset` removes it. The exported ones,
// as NAME=value strings in name order, are every program's environment (JOB_ARGS), with what a
// command's own NAME=value words add. A copy (snapshot) is what a subshell, a script run with
// `sh` or a stage of a pipeline changes, so that the shell's own are as they were after.
/**
 * Characters the variables may hold together, names included. They live in the shell's own
 * memory: `x=a; while true; do x=$x$x; done` grew it to its quota, where the shell faulted (out of
 * memory) and init restarted it, the session lost.
 */
export const MAX_VARIABLE_CHARS: i32 = 2 << 20;

export class Variables {
  private values: Map<string, string> = new Map<string, string>();
  private exported: Set<string> = new Set<string>();
  /** What the values and names hold, against MAX_VARIABLE_CHARS. */
  private chars: i32 = 0;

  has(name: string): bool {
    return this.values.has(name);
  }

  /** The value, or "" when it is not set. */
  get(name: string): string {
    return this.values.has(name) ? this.values.get(name) : "";
  }

  /** The value, or null when it is not set. */
  find(name: string): string | null {
    return this.values.has(name) ? this.values.get(name) : null;
  }

  /** Sets it; false, and nothing changes, when the variables would hold more than MAX_VARIABLE_CHARS. */
  set(name: string, value: string): bool {
    const before = this.values.has(name) ? name.length + this.values.get(name).length : 0;
    const after = this.chars - before + name.length + value.length;
    if (after > MAX_VARIABLE_CHARS && after > this.chars) return false;
    this.values.set(name, value);
    this.chars = after;
    return true;
  }

  export(name: string): void {
    this.exported.add(name);
    if (!this.values.has(name)) this.set(name, "");
  }

  isExported(name: string): bool {
    return this.exported.has(name);
  }

  unset(name: string): void {
    if (this.values.has(name)) this.chars -= name.length + this.values.get(name).length;
    this.values.delete(name);
    this.exported.delete(name);
  }

  /** Every variable's name, sorted. */
  names(): string[] {
    return this.values.keys().sort();
  }

  /** NAME=value for each exported variable and each of `extra` (which replaces a name already there), in name order. */
  environment(extra: string[] = []): string[] {
    const names = this.exported.values().sort();
    const out = new Array<string>();
    for (let i = 0; i < names.length; i++) {
      let overridden = false;
      for (let j = 0; j < extra.length; j++) if (extra[j].startsWith(names[i] + "=")) overridden = true;
      if (!overridden && this.values.has(names[i])) out.push(names[i] + "=" + this.get(names[i]));
    }
    for (let j = 0; j < extra.length; j++) out.push(extra[j]);
    return out.sort();
  }

  /** A copy, to put back with `restore`. */
  snapshot(): Variables {
    const copy = new Variables();
    const names = this.values.keys();
    for (let i = 0; i < names.length; i++) copy.values.set(names[i], this.values.get(names[i]));
    const exported = this.exported.values();
    for (let i = 0; i < exported.length; i++) copy.exported.add(exported[i]);
    copy.chars = this.chars;
    return copy;
  }

  restore(from: Variables): void {
    this.values = from.values;
    this.exported = from.exported;
    this.chars = from.chars;
  }
}
