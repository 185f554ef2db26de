// Running the syntax tree (docs/PROGRAMS.md "Scripts"): lists, && and ||, pipelines, if, while,
// until, for, case, { }, ( ), functions, redirections, and simple commands — a function, a builtin
// (builtins.ts), or a program (jobs.ts). The shell does not fork: what a subshell would do,
// ( list ), $(...), a script run with `sh` and a stage of a pipeline the shell runs itself, runs
// here on a copy of the variables, functions, parameters and working directory that is put back
// after. A pipeline's programs run together, joined by pipes; where a stage is the shell's own (a
// builtin, a loop), its output is kept in memory and given to the next stage when it has ended.
import { getpid, statusText } from "../../lib";
import { FS_RIGHT_READ, FS_RIGHT_WRITE, FS_RIGHT_APPEND, FS_OPEN_CREATE, FS_OPEN_TRUNCATE, FS_RIGHTS_ALL } from "../../lib/fs-client";
import {
  Node, SimpleCommand, Pipeline as PipelineNode, AndOr, List, ListItem, If, While, For, Case, Group, FunctionDefinition, Redirect,
  N_SIMPLE, N_PIPELINE, N_AND_OR, N_LIST, N_IF, N_WHILE, N_FOR, N_CASE, N_GROUP, N_SUBSHELL, N_FUNCTION, JOIN_AND, JOIN_OR,
  R_IN, R_OUT, R_APPEND, R_DUP_IN, R_DUP_OUT, R_HEREDOC, R_READ_WRITE,
} from "./ast";
import { parseProgram, assignmentName } from "./parse";
import { Expander, ExpansionHost, matchPattern } from "./expand";
import { glob } from "./glob";
import { MAX_VARIABLE_CHARS, Variables } from "./variables";
import { Channel, ByteBuffer, IO_CONSOLE, IO_CAP, IO_BUFFER, IO_PIPE_NEXT, IO_NULL, IO_FEED, IO_DRAIN, MAX_SUBSTITUTION_BYTES } from "./channel";
import { Command, Pipeline, OpenedFile } from "./pipeline";
import { Launcher, Job, STOPPED_STATUS } from "./jobs";
import { ShellFiles, textStatus } from "./shell-files";
import { isBuiltin, isSpecialBuiltin, runBuiltin } from "./builtins";

export const FLOW_NONE: i32 = 0;
export const FLOW_BREAK: i32 = 1;
export const FLOW_CONTINUE: i32 = 2;
export const FLOW_RETURN: i32 = 3;
export const FLOW_EXIT: i32 = 4;
/** Nesting went too deep: everything unwinds to the prompt (or ends the script). */
export const FLOW_ABORT: i32 = 5;
/** The output of the stage that runs had no more room (MAX_HELD_BYTES): the stage ends. */
export const FLOW_STOP_STAGE: i32 = 6;

/**
 * How deep the shell's own recursion may go, in units of about 4 KiB of the engine's stack (a
 * process's stack is the engine's, 984 KiB, and running out ends the whole shell): a list costs 1,
 * a function call, `$(...)` and `eval` 2 more, a script 3 more (measured: 3-4.2 KiB a unit). 150
 * leaves a third of the stack for the work at the deepest level; a simple recursive function
 * reaches 50 calls.
 */
export const MAX_NESTING: i32 = 150;

/** What a subshell changes, kept to be put back. */
class Context {
  vars: Variables = new Variables();
  functions: Map<string, Node> = new Map<string, Node>();
  positional: string[] = [];
  name0: string = "";
  cwd: i32 = 0;
  cwdPath: string = "";
  cwdRights: u32 = 0;
  loops: i32 = 0;
  functionDepth: i32 = 0;
  errexit: bool = false;
  xtrace: bool = false;
  constructor(sh: Shell) {
    this.vars = sh.vars.snapshot();
    const names = sh.functions.keys();
    for (let i = 0; i < names.length; i++) this.functions.set(names[i], sh.functions.get(names[i]));
    this.positional = sh.positionalArgs.slice(0);
    this.name0 = sh.name0;
    this.cwd = sh.files.cwd;
    this.cwdPath = sh.files.cwdPath;
    this.cwdRights = sh.files.cwdRights;
    this.loops = sh.loops;
    this.functionDepth = sh.functionDepth;
    this.errexit = sh.errexit;
    this.xtrace = sh.xtrace;
  }
}

/** Redirections in force: the channels they replaced, and the files they opened. */
class Redirected {
  saved: Channel[] = [];
  opened: OpenedFile[] = [];
  failed: bool = false;
}

export class Shell extends ExpansionHost {
  readonly vars: Variables = new Variables();
  functions: Map<string, Node> = new Map<string, Node>();
  positionalArgs: string[] = [];
  /** $0: the shell's name, or the script's. */
  name0: string = "shell";
  status: i32 = 0;
  flow: i32 = FLOW_NONE;
  /** How many more loops a break or continue leaves. */
  flowLevels: i32 = 0;
  loops: i32 = 0;
  functionDepth: i32 = 0;
  /** Units of MAX_NESTING in use. */
  private nesting: i32 = 0;
  /** Standard input, output and errors of what runs now. */
  fds: Channel[] = [new Channel(IO_CONSOLE), new Channel(IO_CONSOLE), new Channel(IO_CONSOLE, 0, true)];
  /** $!: the pid of the last job started in the background. */
  backgroundPid: i32 = 0;
  /** Whether a person types the commands (then errors say "shell:"; a script's say its name). */
  interactive: bool = true;
  /** The status of the last command substitution (an assignment alone has it). */
  private substitutionStatus: i32 = 0;
  /** Working directory handles a subshell must not close (its parent's). */
  pinned: i32[] = [];
  private expanderOrNull: Expander | null = null;
  /** The lines typed so far (the line editor's), for `history`. */
  history: string[] = [];
  /** set -e: a command that fails ends the script (not in a condition, nor before && or ||). */
  errexit: bool = false;
  /** set -x: each command is shown on the errors stream, expanded, before it runs. */
  xtrace: bool = false;
  /** Running a file with `.`: `return` ends it. */
  sourcing: bool = false;
  /** Variables `local` saved in each function that runs: name, then the value (or null), put back when it returns. */
  private locals: Array<Map<string, string | null>> = [];
  /** Inside an if/while condition, a ! pipeline or the left of && and ||: set -e does not apply. */
  private conditionDepth: i32 = 0;

  constructor(
    readonly launcher: Launcher,
    readonly files: ShellFiles,
  ) {
    super();
    this.expanderOrNull = new Expander(this);
  }

  get expander(): Expander {
    return this.expanderOrNull!;
  }

  // ---- ExpansionHost -------------------------------------------------------------------------

  variable(name: string): string | null {
    return this.vars.find(name);
  }

  setVariable(name: string, value: string): void {
    this.assign(name, value);
  }

  /** Sets a variable; false, said and status 1, when the variables would hold more than they may. */
  assign(name: string, value: string): bool {
    if (this.vars.set(name, value)) return true;
    this.error(name + ": not set: the variables would hold more than " + MAX_VARIABLE_CHARS.toString() + " characters");
    this.status = 1;
    return false;
  }

  positional(): string[] {
    return this.positionalArgs;
  }

  scriptName(): string {
    return this.name0;
  }

  lastStatus(): i32 {
    return this.status;
  }

  lastBackground(): i32 {
    return this.backgroundPid;
  }

  shellPid(): i32 {
    return getpid();
  }

  expansionError(message: string): void {
    this.error(message);
  }

  /** $(...): runs `text` in a subshell with its output kept; what it wrote, trailing newlines and all. */
  commandOutput(text: string): string {
    const parsed = parseProgram(text);
    if (parsed.list == null) {
      this.error("$(...): " + parsed.error);
      this.substitutionStatus = 2;
      return "";
    }
    const buffer = new ByteBuffer(MAX_SUBSTITUTION_BYTES);
    const savedFds = this.fds;
    this.fds = [savedFds[0], Channel.memory(buffer), savedFds[2]];
    if (!this.enterNesting(2, "$(...)")) return "";
    const context = this.enterSubshell();
    const savedStatus = this.status;
    this.runList(parsed.list!);
    this.substitutionStatus = this.status;
    this.leaveSubshell(context);
    this.sayHeldTooMuch(buffer);
    this.leaveNesting(2);
    this.status = savedStatus;
    this.fds = savedFds;
    return buffer.text();
  }

  // ---- Messages ------------------------------------------------------------------------------

  /** What errors start with: "shell", or the script's name. */
  get prefix(): string {
    return this.interactive ? "shell" : this.name0;
  }

  /** `prefix: message` on the errors stream. */
  error(message: string): void {
    this.fds[2].write(this.prefix + ": " + message + "\n");
  }

  out(text: string): bool {
    return this.fds[1].write(text);
  }

  // ---- Subshells -----------------------------------------------------------------------------

  enterSubshell(): Context {
    const context = new Context(this);
    this.pinned.push(this.files.cwd);
    return context;
  }

  leaveSubshell(context: Context): void {
    this.vars.restore(context.vars);
    this.functions = context.functions;
    this.positionalArgs = context.positional;
    this.name0 = context.name0;
    this.loops = context.loops;
    this.functionDepth = context.functionDepth;
    this.errexit = context.errexit;
    this.xtrace = context.xtrace;
    this.pinned.pop();
    if (this.files.cwd != context.cwd) {
      this.releaseCwd(this.files.cwd);
      this.files.cwd = context.cwd;
      this.files.cwdPath = context.cwdPath;
      this.files.cwdRights = context.cwdRights;
    }
    if (this.flow != FLOW_ABORT) this.flow = FLOW_NONE;
  }

  /**
   * Takes `units` of nesting for what starts now; false (said once, status 2, everything
   * unwinding) when that would go past MAX_NESTING or the shell is unwinding already. Each true
   * is matched by leaveNesting(units).
   */
  enterNesting(units: i32, what: string): bool {
    if (this.flow == FLOW_ABORT) return false;
    if (this.nesting + units > MAX_NESTING) {
      this.error(what + ": nested too deep, stopped (functions, scripts, $(...), eval and compound commands may nest " + MAX_NESTING.toString() + " units deep)");
      this.status = 2;
      this.flow = FLOW_ABORT;
      return false;
    }
    this.nesting += units;
    return true;
  }

  leaveNesting(units: i32): void {
    this.nesting -= units;
  }

  /** Closes a working directory handle no longer used, unless it is a root or a parent's. */
  releaseCwd(handle: i32): void {
    if (handle == 0 || handle == this.files.root || handle == this.files.hostRoot(false)) return;
    if (this.pinned.includes(handle)) return;
    this.files.client.close(handle);
  }

  // ---- Lists ---------------------------------------------------------------------------------

  runList(list: List): i32 {
    if (!this.enterNesting(1, "a list of commands")) return this.status;
    for (let i = 0; i < list.items.length && this.flow == FLOW_NONE; i++) this.runItem(list.items[i]);
    this.leaveNesting(1);
    return this.status;
  }

  private runItem(item: ListItem): void {
    if (item.background && this.startInBackground(item)) return;
    this.runAndOr(item.command);
  }

  private runAndOr(a: AndOr): void {
    if (this.launcher.interrupted) {
      // ^C ended a job of this line: the rest of the line does not run (sh stops on SIGINT too).
      this.status = 130;
      this.flow = FLOW_ABORT;
      return;
    }
    if (this.fds[1].stopsWriter) {
      // A writer whose pipe broke, or whose output the shell can hold no more of: it ends here.
      if (this.fds[1].kind == IO_BUFFER) this.sayHeldTooMuch(this.fds[1].buffer!);
      this.status = 1;
      this.flow = FLOW_STOP_STAGE;
      return;
    }
    let lastRan = false;
    for (let i = 0; i < a.pipelines.length && this.flow == FLOW_NONE; i++) {
      const join = a.joins[i];
      if ((join == JOIN_AND && this.status != 0) || (join == JOIN_OR && this.status == 0)) continue;
      const last = i + 1 == a.pipelines.length;
      if (!last) this.conditionDepth++;
      this.runPipeline(a.pipelines[i]);
      if (!last) this.conditionDepth--;
      lastRan = last && !a.pipelines[i].bang;
    }
    if (this.errexit && lastRan && this.status != 0 && this.conditionDepth == 0 && this.flow == FLOW_NONE) this.flow = FLOW_EXIT;
  }

  /** Says, once a buffer, that output was refused past MAX_HELD_BYTES. */
  sayHeldTooMuch(buffer: ByteBuffer): void {
    if (!buffer.full || buffer.fullSaid) return;
    buffer.fullSaid = true;
    const what = buffer.limit == MAX_SUBSTITUTION_BYTES ? "$(...)" : "its next command";
    this.error("more output than the shell holds for " + what + " (" + (buffer.limit >> 20).toString() + " MiB, in memory: the shell runs its own commands one after another); stopped");
  }

  /** Runs a condition (if, while): set -e does not apply in it. */
  private condition(list: List): void {
    this.conditionDepth++;
    this.runList(list);
    this.conditionDepth--;
  }

  /**
   * `cmd &`: a pipeline of programs starts in the background ([N] PID; status 0, as sh says). One
   * the shell runs itself (a builtin, a loop) cannot: it runs now. Whether it started.
   */
  private startInBackground(item: ListItem): bool {
    const a = item.command;
    if (a.pipelines.length != 1 || a.pipelines[0].bang) return false;
    const plan = this.plan(a.pipelines[0]);
    if (plan == null) return true; // an expansion failed: said, status set
    for (let i = 0; i < plan!.length; i++) if (!plan![i].external) return false;
    const p = new Pipeline();
    p.background = true;
    p.text = item.text;
    if (!this.buildExternal(plan!, 0, plan!.length, this.fds[0], this.fds[1], p)) return true;
    const job = this.launcher.start(p);
    if (job == null) {
      this.startFailed(p);
      return true;
    }
    this.backgroundPid = <i32>job!.pid;
    this.status = 0;
    return true;
  }

  /** Says why the launcher could not start `p` (on the errors stream of the command it concerns), and takes its status. */
  private startFailed(p: Pipeline): void {
    const failure = this.launcher.failure!;
    const errors = failure.index < p.commands.length ? p.commands[failure.index].fds[2] : this.fds[2];
    errors.write(this.prefix + ": " + failure.why + "\n");
    this.status = failure.status;
  }

  // ---- Pipelines -----------------------------------------------------------------------------

  private runPipeline(p: PipelineNode): void {
    if (p.commands.length == 1 && p.commands[0].kind != N_SIMPLE) {
      this.exec(p.commands[0]);
    } else {
      const plan = this.plan(p);
      if (plan != null) this.runStages(plan!, p);
    }
    if (p.bang) this.status = this.status == 0 ? 1 : 0;
  }

  /**
   * Each command of a pipeline, its words expanded: whether it is a program (else the shell runs
   * it: a builtin, a function, a compound command). Null when an expansion failed.
   */
  private plan(p: PipelineNode): Stage[] | null {
    const stages = new Array<Stage>();
    for (let i = 0; i < p.commands.length; i++) {
      const node = p.commands[i];
      const stage = new Stage(node);
      if (node.kind == N_SIMPLE) {
        const argv = this.expandWords((<SimpleCommand>node).words);
        if (argv == null) return null;
        stage.argv = argv!;
        stage.external = argv!.length > 0 && !this.functions.has(argv![0]) && !isBuiltin(argv![0]);
      }
      stages.push(stage);
    }
    return stages;
  }

  /**
   * Runs the stages: runs of programs start together as one job; a stage the shell runs itself
   * reads what the stage before it wrote (kept in memory) and writes for the next the same way.
   */
  private runStages(stages: Stage[], p: PipelineNode): void {
    const input = this.fds[0];
    const output = this.fds[1];
    let from = input;
    let i = 0;
    const single = stages.length == 1;
    // Programs whose output the shell's next stage reads as they write it (IO_DRAIN), waited for after that stage.
    let drained: Job | null = null;
    while (i < stages.length) {
      let j = i;
      while (j < stages.length && stages[j].external) j++;
      const programs = j > i;
      const fed = this.feedsPrograms(stages, i);
      if (fed > i + 1) {
        // The shell's stage, then programs: they start first and read what it writes as it
        // writes it, so an endless loop into `head` ends when head does.
        const buffer: ByteBuffer | null = fed == stages.length ? null : new ByteBuffer();
        this.runFed(stages, i, fed, from, buffer == null ? output : Channel.memory(buffer!));
        this.endDrained(drained, from);
        drained = null;
        if (buffer != null) from = Channel.memory(buffer!);
        i = fed;
        continue;
      }
      if (programs && j < stages.length && !this.loneScript(stages, i, j)) {
        // Programs, then the shell's stage: it reads what they write as they write it, so a
        // file of any size can go through `while read`.
        const drain = new Channel(IO_DRAIN);
        drained = this.startPrograms(stages, i, j, from, drain);
        from = drained != null ? drain : new Channel(IO_NULL);
        i = j;
        continue;
      }
      const end = programs ? j : i + 1;
      const last = end == stages.length;
      const buffer: ByteBuffer | null = last ? null : new ByteBuffer();
      const to = last ? output : Channel.memory(buffer!);
      if (programs) this.runPrograms(stages, i, end, from, to, p);
      else {
        const saved = this.fds;
        this.fds = [from, to, saved[2]];
        // A stage of a longer pipeline is a subshell: what it sets does not stay.
        const context: Context | null = single ? null : this.enterSubshell();
        this.execStage(stages[i]);
        if (context != null) this.leaveSubshell(context!);
        this.fds = saved;
        if (buffer != null) this.sayHeldTooMuch(buffer!);
        this.endDrained(drained, from);
        drained = null;
      }
      if (buffer != null) from = Channel.memory(buffer!);
      i = end;
    }
  }

  /** Starts the programs [start, end) as one job, not waited for: the job, or null (said, status set). */
  private startPrograms(stages: Stage[], start: i32, end: i32, input: Channel, output: Channel): Job | null {
    const p = new Pipeline();
    if (!this.buildExternal(stages, start, end, input, output, p)) return null;
    p.text = jobText(stages, start, end);
    const job = this.launcher.start(p);
    if (job == null) this.startFailed(p);
    return job;
  }

  /** After the stage that read `job`'s output through `drain`: no more is read; waits for the job, keeping the stage's status. */
  private endDrained(job: Job | null, drain: Channel): void {
    if (job == null) return;
    this.launcher.endDrain(drain);
    const status = this.status;
    this.launcher.wait(job!);
    this.status = status;
  }

  /**
   * When stage `i` is one the shell runs itself and programs follow it: the end of their run
   * (the stage after the last); else 0. A lone #! script after it is the shell's too: not fed.
   */
  private feedsPrograms(stages: Stage[], i: i32): i32 {
    if (stages[i].external || i + 1 >= stages.length || !stages[i + 1].external) return 0;
    let end = i + 1;
    while (end < stages.length && stages[end].external) end++;
    return this.loneScript(stages, i + 1, end) ? 0 : end;
  }

  /** Whether the programs [start, end) are one #! script: the shell runs that itself (runScriptFile), not as a job. */
  private loneScript(stages: Stage[], start: i32, end: i32): bool {
    return end == start + 1 && this.scriptLine(stages[start].argv[0]).length > 0;
  }

  /** Stage `i`, the shell's, writes into a job of the programs [i + 1, end) as they run; their status is the pipeline's. */
  private runFed(stages: Stage[], i: i32, end: i32, input: Channel, output: Channel): void {
    const feed = new Channel(IO_FEED);
    const job = this.startPrograms(stages, i + 1, end, feed, output);
    const failed = this.status;
    const saved = this.fds;
    // Started or not, the stage runs, as sh runs every stage (its output then goes nowhere).
    this.fds = [input, job != null ? feed : new Channel(IO_NULL), saved[2]];
    const context = this.enterSubshell();
    this.execStage(stages[i]);
    this.leaveSubshell(context);
    this.fds = saved;
    this.launcher.endFeed(feed);
    this.status = job != null ? this.launcher.wait(job!) : failed;
  }

  private execStage(stage: Stage): void {
    if (stage.node.kind == N_SIMPLE) this.simple(<SimpleCommand>stage.node, stage.argv);
    else this.exec(stage.node);
  }

  /** Stages [start, end) are programs: one job, waited for. */
  private runPrograms(stages: Stage[], start: i32, end: i32, input: Channel, output: Channel, node: PipelineNode): void {
    const p = new Pipeline();
    p.text = "";
    if (!this.buildExternal(stages, start, end, input, output, p)) return;
    // A program that is a script (#!) runs in the shell when it is alone.
    if (end - start == 1 && this.runScriptFile(p.commands[0], p)) return;
    p.text = jobText(stages, start, end);
    const job = this.launcher.start(p);
    if (job == null) {
      this.startFailed(p);
      return;
    }
    this.status = this.launcher.wait(job!);
  }

  /**
   * The launcher's Pipeline for stages [start, end): arguments, environments and channels, each
   * command's redirections applied in order (`2>&1` sends errors where output goes at that point).
   * False when a redirection failed (said, status 1).
   */
  private buildExternal(stages: Stage[], start: i32, end: i32, input: Channel, output: Channel, p: Pipeline): bool {
    for (let i = start; i < end; i++) {
      const cmd = <SimpleCommand>stages[i].node;
      const c = new Command();
      c.argv = stages[i].argv;
      const own = new Array<string>();
      for (let a = 0; a < cmd.assignments.length; a++) {
        const word = cmd.assignments[a];
        const name = assignmentName(word);
        own.push(name + "=" + this.expander.text(word.slice(name.length + 1)));
      }
      c.env = this.vars.environment(own);
      const pipeIn = new Channel(IO_PIPE_NEXT);
      c.fds = [i == start ? input : pipeIn, i + 1 == end ? output : new Channel(IO_PIPE_NEXT), this.fds[2]];
      const r = this.redirect(cmd.redirects, c.fds);
      for (let k = 0; k < r.opened.length; k++) p.files.push(r.opened[k]);
      if (r.failed) {
        this.launcher.closeFiles(p.files, null);
        this.status = 1;
        return false;
      }
      p.commands.push(c);
    }
    return true;
  }

  // ---- Commands ------------------------------------------------------------------------------

  /** Runs any node with the current channels. */
  exec(node: Node): void {
    switch (node.kind) {
      case N_SIMPLE:
        this.simple(<SimpleCommand>node, null);
        return;
      case N_PIPELINE:
        this.runPipeline(<PipelineNode>node);
        return;
      case N_AND_OR:
        this.runAndOr(<AndOr>node);
        return;
      case N_LIST:
        this.runList(<List>node);
        return;
      case N_FUNCTION: {
        const f = <FunctionDefinition>node;
        this.functions.set(f.name, f.body);
        this.status = 0;
        return;
      }
    }
    // A compound command, with its redirections for its whole body.
    const r = this.redirect(node.redirects, this.fds);
    if (r.failed) {
      this.undo(r);
      this.status = 1;
      return;
    }
    this.compound(node);
    this.undo(r);
  }

  private compound(node: Node): void {
    switch (node.kind) {
      case N_IF: {
        const n = <If>node;
        for (let i = 0; i < n.conditions.length; i++) {
          this.condition(n.conditions[i]);
          if (this.flow != FLOW_NONE) return;
          if (this.status == 0) {
            this.runList(n.bodies[i]);
            return;
          }
        }
        if (n.otherwise != null) this.runList(n.otherwise!);
        else this.status = 0;
        return;
      }
      case N_WHILE:
        this.whileLoop(<While>node);
        return;
      case N_FOR:
        this.forLoop(<For>node);
        return;
      case N_CASE:
        this.caseCommand(<Case>node);
        return;
      case N_GROUP:
        this.runList((<Group>node).body);
        return;
      case N_SUBSHELL: {
        const context = this.enterSubshell();
        this.runList((<Group>node).body);
        const status = this.status;
        this.leaveSubshell(context);
        this.status = status;
        return;
      }
    }
  }

  /** After a loop's body: whether the loop ends (break, return, exit), taking a continue or break of this level. */
  private loopEnds(): bool {
    if (this.launcher.checkInterrupt()) {
      this.status = 130;
      this.flow = FLOW_ABORT;
      return true;
    }
    if (this.flow == FLOW_BREAK) {
      if (--this.flowLevels <= 0) this.flow = FLOW_NONE;
      return true;
    }
    if (this.flow == FLOW_CONTINUE) {
      if (--this.flowLevels <= 0) {
        this.flow = FLOW_NONE;
        return false;
      }
      return true;
    }
    return this.flow != FLOW_NONE;
  }

  private whileLoop(n: While): void {
    let status = 0;
    this.loops++;
    for (;;) {
      this.condition(n.condition);
      if (this.flow != FLOW_NONE) {
        if (this.loopEnds()) break;
        continue;
      }
      if ((this.status == 0) == n.until) break;
      this.runList(n.body);
      status = this.status;
      if (this.loopEnds()) break;
    }
    this.loops--;
    this.status = status;
  }

  private forLoop(n: For): void {
    let values: string[];
    if (n.words == null) values = this.positionalArgs.slice(0);
    else {
      const expanded = this.expandWords(n.words!);
      if (expanded == null) return;
      values = expanded!;
    }
    let status = 0;
    this.loops++;
    for (let i = 0; i < values.length; i++) {
      if (!this.assign(n.name, values[i])) {
        status = 1;
        break;
      }
      this.runList(n.body);
      status = this.status;
      if (this.loopEnds()) break;
    }
    this.loops--;
    this.status = status;
  }

  private caseCommand(n: Case): void {
    const word = this.expander.text(n.word);
    this.status = 0;
    for (let i = 0; i < n.items.length; i++) {
      const item = n.items[i];
      for (let k = 0; k < item.patterns.length; k++) {
        const pattern = this.expander.pattern(item.patterns[k]);
        if (!matchPattern(pattern.text, pattern.wild, 0, word, 0)) continue;
        this.runList(item.body);
        return;
      }
    }
  }

  /** A simple command; `argv` when its words are expanded already (a pipeline's stage). */
  private simple(cmd: SimpleCommand, expandedArgv: string[] | null): void {
    this.substitutionStatus = 0;
    let argv: string[];
    if (expandedArgv != null) argv = expandedArgv!;
    else {
      const words = this.expandWords(cmd.words);
      if (words == null) return;
      argv = words!;
    }
    if (argv.length == 0) {
      this.assignOnly(cmd);
      return;
    }
    if (this.xtrace) this.fds[2].write("+ " + argv.join(" ") + "\n");
    const name = argv[0];
    if (this.functions.has(name) || isBuiltin(name)) {
      this.shellCommand(cmd, argv);
      return;
    }
    const stages = [new Stage(cmd)];
    stages[0].argv = argv;
    stages[0].external = true;
    const p = new PipelineNode();
    p.commands.push(cmd);
    this.runPrograms(stages, 0, 1, this.fds[0], this.fds[1], p);
  }

  /** NAME=value words alone: they set the shell's variables; redirections are made (and undone). */
  private assignOnly(cmd: SimpleCommand): void {
    for (let i = 0; i < cmd.assignments.length; i++) {
      const word = cmd.assignments[i];
      const name = assignmentName(word);
      const value = this.expander.text(word.slice(name.length + 1));
      if (this.expander.failed) {
        this.expander.failed = false;
        this.status = 1;
        return;
      }
      if (!this.assign(name, value)) return;
    }
    const r = this.redirect(cmd.redirects, this.fds);
    this.undo(r);
    this.status = r.failed ? 1 : this.substitutionStatus;
  }

  /**
   * A builtin or a function, with its redirections; its NAME=value words last only while it runs,
   * except before a special builtin (export, set, ...), where they stay, as POSIX says.
   */
  private shellCommand(cmd: SimpleCommand, argv: string[]): void {
    const name = argv[0];
    const lasting = isSpecialBuiltin(name) && !this.functions.has(name);
    const savedValues = new Array<string | null>();
    const names = new Array<string>();
    for (let i = 0; i < cmd.assignments.length; i++) {
      const word = cmd.assignments[i];
      const variable = assignmentName(word);
      names.push(variable);
      savedValues.push(this.vars.find(variable));
      this.assign(variable, this.expander.text(word.slice(variable.length + 1)));
    }
    const r = this.redirect(cmd.redirects, this.fds);
    if (r.failed) this.status = 1;
    else if (this.functions.has(name)) this.callFunction(name, argv);
    else this.status = runBuiltin(this, argv);
    this.undo(r);
    if (lasting) return;
    for (let i = names.length - 1; i >= 0; i--) {
      const before = savedValues[i];
      if (before == null) this.vars.unset(names[i]);
      else this.vars.set(names[i], before!);
    }
  }

  callFunction(name: string, argv: string[]): void {
    const body = this.functions.get(name);
    if (!this.enterNesting(2, name)) return;
    const saved = this.positionalArgs;
    this.positionalArgs = argv.slice(1);
    this.functionDepth++;
    this.locals.push(new Map<string, string | null>());
    const loops = this.loops;
    this.loops = 0;
    this.exec(body);
    this.loops = loops;
    const locals = this.locals.pop();
    const names = locals.keys();
    for (let i = 0; i < names.length; i++) {
      const before = locals.get(names[i]);
      if (before == null) this.vars.unset(names[i]);
      else this.vars.set(names[i], before!);
    }
    this.functionDepth--;
    this.positionalArgs = saved;
    if (this.flow == FLOW_RETURN) this.flow = FLOW_NONE;
    this.leaveNesting(2);
  }

  /** `local NAME`: its value now is put back when the function that runs returns. */
  keepLocal(name: string): void {
    if (this.locals.length == 0) return;
    const frame = this.locals[this.locals.length - 1];
    if (!frame.has(name)) frame.set(name, this.vars.find(name));
  }

  /** The programs a command may name: the boot modules and what PATH's directories hold. */
  programNames(): string[] {
    const names = this.launcher.programs.keys();
    const dirs = this.launcher.searchPath.split(":");
    for (let i = 0; i < dirs.length; i++) {
      const entries = this.files.list(dirs[i].length == 0 ? "." : dirs[i]);
      if (entries == null) continue;
      for (let k = 0; k < entries!.length; k++) if (!entries![k].directory && !names.includes(entries![k].name)) names.push(entries![k].name);
    }
    return names.sort();
  }

  /**
   * Runs `argv` as a command with the current channels: a function, a builtin, or a program with
   * `env` added to its environment (env CMD, xargs, command); with `programOnly`, a program.
   */
  runArgv(argv: string[], env: string[], programOnly: bool = false): void {
    if (argv.length == 0) return;
    const name = argv[0];
    if (this.functions.has(name) && !programOnly) {
      this.callFunction(name, argv);
      return;
    }
    if (isBuiltin(name) && !programOnly) {
      this.status = runBuiltin(this, argv);
      return;
    }
    const p = new Pipeline();
    const c = new Command();
    c.argv = argv;
    c.env = this.vars.environment(env);
    c.fds = [this.fds[0], this.fds[1], this.fds[2]];
    p.commands.push(c);
    if (this.runScriptFile(c, p)) return;
    p.text = argv.join(" ");
    const job = this.launcher.start(p);
    if (job == null) this.startFailed(p);
    else this.status = this.launcher.wait(job!);
  }

  // ---- Scripts -------------------------------------------------------------------------------

  /**
   * If the program `c` names is a file that starts with #!, runs it with its interpreter: the
   * shell itself for sh (in a subshell, here), else the interpreter's program with the script's
   * path. Whether it was one (then the status is set).
   */
  private runScriptFile(c: Command, p: Pipeline): bool {
    const line = this.scriptLine(c.argv[0]);
    if (line.length == 0) return false;
    const path = this.launcher.binaryPath(c.argv[0]);
    const fields = line.slice(2).trim().split(" ").filter((f: string) => f.length > 0);
    const interpreter = fields.length > 0 ? fields[0] : "/bin/sh";
    const base = interpreter.slice(interpreter.lastIndexOf("/") + 1);
    if (base == "sh" || base == "shell" || base == "dash" || base == "bash") {
      const saved = this.fds;
      this.fds = c.fds;
      this.runScript(path, c.argv.slice(1), false);
      this.fds = saved;
      this.launcher.closeFiles(p.files, null);
      return true;
    }
    const argv = [base];
    for (let i = 1; i < fields.length; i++) argv.push(fields[i]);
    argv.push(path);
    for (let i = 1; i < c.argv.length; i++) argv.push(c.argv[i]);
    c.argv = argv;
    if (!this.launcher.exists(base) && this.launcher.exists(interpreter)) argv[0] = interpreter;
    const job = this.launcher.start(p);
    if (job == null) this.startFailed(p);
    else this.status = this.launcher.wait(job!);
    return true;
  }

  /** The #! line of the script the command `name` runs, or "" when it names no script. */
  private scriptLine(name: string): string {
    if (this.launcher.programs.has(name) && !name.includes("/")) return "";
    const path = this.launcher.binaryPath(name);
    if (path.length == 0) return "";
    const line = this.firstLine(path);
    return line.startsWith("#!") ? line : "";
  }

  /** The first line of the file at `path` (at most 240 bytes), or "". */
  private firstLine(path: string): string {
    const file = this.files.open(path, FS_RIGHT_READ);
    if (file < 0) return "";
    const scratch = heap.alloc(256);
    const n = this.files.client.readInline(file, 0, scratch, 240);
    this.files.client.close(file);
    let line = "";
    if (n > 0) {
      let end = 0;
      while (end < n && load<u8>(scratch + <usize>end) != 0x0a) end++;
      line = String.UTF8.decodeUnsafe(scratch, <usize>end);
    }
    heap.free(scratch);
    return line;
  }

  /**
   * `sh FILE ARGS` (and a #! script): parses the whole file, then runs it in a subshell with $0
   * FILE and $1... ARGS; `exit` ends it. With `current` (`.` and `source`), in this shell.
   */
  runScript(path: string, args: string[], current: bool): void {
    const text = this.files.readText(path);
    if (text == null) {
      this.error(path + ": " + textStatus(this.files.lastStatus));
      this.status = this.files.lastStatus == -201 ? 127 : 126;
      return;
    }
    const parsed = parseProgram(text!);
    if (parsed.list == null) {
      this.error(path + ": line " + parsed.line.toString() + ": " + parsed.error);
      this.status = 2;
      return;
    }
    if (!this.enterNesting(3, path)) return;
    if (current) {
      const saved = this.positionalArgs;
      if (args.length > 0) this.positionalArgs = args;
      this.runList(parsed.list!);
      if (args.length > 0) this.positionalArgs = saved;
      if (this.flow == FLOW_RETURN) this.flow = FLOW_NONE;
      this.leaveNesting(3);
      return;
    }
    const context = this.enterSubshell();
    const interactive = this.interactive;
    this.interactive = false;
    this.positionalArgs = args;
    this.name0 = path;
    this.loops = 0;
    this.functionDepth = 0;
    this.runList(parsed.list!);
    const status = this.status;
    this.interactive = interactive;
    this.leaveSubshell(context);
    this.status = status;
    this.leaveNesting(3);
  }

  // ---- Words and redirections ----------------------------------------------------------------

  /** Words expanded into fields and globbed; null when an expansion failed (said; status 1). */
  expandWords(words: string[]): string[] | null {
    const argv = new Array<string>();
    for (let i = 0; i < words.length; i++) {
      const fields = this.expander.fields(words[i]);
      if (this.expander.failed) {
        this.expander.failed = false;
        this.status = 1;
        return null;
      }
      for (let f = 0; f < fields.length; f++) {
        const names = glob(fields[f], this.files);
        for (let n = 0; n < names.length; n++) argv.push(names[n]);
      }
    }
    return argv;
  }

  /**
   * Applies `redirects` to `fds` in order (opening files), keeping what they replaced in the
   * answer, for `undo`. On a failure (said) the answer says so; what was done stays to be undone.
   */
  redirect(redirects: Redirect[], fds: Channel[]): Redirected {
    const r = new Redirected();
    r.saved = fds.slice(0);
    for (let i = 0; i < redirects.length; i++) {
      const redirect = redirects[i];
      if (redirect.fd > 2) {
        this.error(redirect.fd.toString() + ": only 0, 1 and 2 can be redirected");
        r.failed = true;
        break;
      }
      const channel = this.channelFor(redirect, fds, r);
      if (channel == null) {
        r.failed = true;
        break;
      }
      fds[redirect.fd] = channel!;
    }
    return r;
  }

  /** Puts back what `redirect` replaced in the shell's own channels, and closes what it opened. */
  undo(r: Redirected): void {
    for (let i = 0; i < r.saved.length && i < this.fds.length; i++) this.fds[i] = r.saved[i];
    this.launcher.closeFiles(r.opened, null);
  }

  private channelFor(redirect: Redirect, fds: Channel[], r: Redirected): Channel | null {
    const op = redirect.op;
    if (op == R_HEREDOC) {
      const buffer = new ByteBuffer();
      buffer.appendString(redirect.heredocQuoted ? redirect.heredoc : this.expander.heredoc(redirect.heredoc));
      return Channel.memory(buffer);
    }
    const target = this.expander.text(redirect.target);
    if (op == R_DUP_IN || op == R_DUP_OUT) {
      if (target == "-") return new Channel(IO_NULL);
      if (target == "0" || target == "1" || target == "2") return fds[I32.parseInt(target)];
      this.error(target + ": not a file descriptor (0, 1 or 2)");
      return null;
    }
    if (target == "/dev/null") return new Channel(IO_NULL);
    if (!this.files.present) {
      this.error(target + ": redirection needs the file system, which this machine does not run");
      return null;
    }
    let flags: u32 = FS_RIGHT_READ;
    if (op == R_OUT) flags = FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE;
    else if (op == R_APPEND) flags = FS_RIGHT_APPEND | FS_OPEN_CREATE;
    else if (op == R_READ_WRITE) flags = FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE;
    const handle = this.files.open(target, flags);
    if (handle < 0) {
      this.error(target + ": " + statusText(handle));
      return null;
    }
    r.opened.push(new OpenedFile(handle, target, op != R_IN));
    return new Channel(IO_CAP, handle);
  }
}

/** A command of a pipeline, planned: its words expanded, and whether it is a program. */
class Stage {
  argv: string[] = [];
  external: bool = false;
  constructor(readonly node: Node) {}
}

/** The text `jobs` shows for stages [start, end). */
function jobText(stages: Stage[], start: i32, end: i32): string {
  const parts = new Array<string>();
  for (let i = start; i < end; i++) parts.push(stages[i].argv.join(" "));
  return parts.join(" | ");
}
