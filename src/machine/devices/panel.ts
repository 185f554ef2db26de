import type { InterruptSink } from "../devices.ts";
import { RegisterDevice } from "./device-base.ts";
import { DeviceKind, RegisterError } from "./registers.ts";

/**
 * The front panel (docs/DEVICES.md "Front panel"): the switches a person at the machine uses to
 * stop, hold and release a process, as a browser's live views offer them. The host queues a
 * command; the device shows one at a time in its registers and raises its line; the panel's driver
 * carries it out with the capabilities process 1 granted it, and stores the outcome. The device
 * itself can do nothing to a process: what a command achieves is what its driver may do.
 */
export const Panel = {
  /** Read: the command shown (a PanelCommand; 0: none). */
  COMMAND: 8,
  /** Read: the pid it is for. */
  TARGET: 9,
  /** Read: the shown command's number (counts every command ever shown, from 1). */
  SEQUENCE: 10,
  /** Store: the outcome of the command shown (a status: 0, or a negative one as u32); the next queued one is shown. */
  ANSWER: 11,
  /** Read: commands queued behind the one shown. */
  QUEUED: 12,
} as const;

export const PanelCommand = { NONE: 0, KILL: 1, SUSPEND: 2, RESUME: 3 } as const;
export type PanelOperation = "kill" | "suspend" | "resume";
/** The interrupt cause: a command is shown. */
export const IRQ_COMMAND = 1;
/** Commands a host may have waiting; past that a request is refused at once. */
export const PANEL_QUEUE = 16;

const CODES: Record<PanelOperation, number> = { kill: PanelCommand.KILL, suspend: PanelCommand.SUSPEND, resume: PanelCommand.RESUME };

interface Pending {
  readonly command: number;
  readonly pid: number;
  readonly settle: (status: number) => void;
  readonly refuse: (error: Error) => void;
}

export class PanelDevice extends RegisterDevice {
  readonly name = "panel";
  private readonly queue: Pending[] = [];
  private shown: Pending | null = null;
  private sequence = 0;

  constructor(line: number, interrupts: InterruptSink) {
    super(DeviceKind.PANEL, line, interrupts);
    this.powerOn();
  }

  /**
   * Asks the panel's driver to `operation` process `pid`: resolves with the status it stored (0:
   * done), or rejects when the queue is full or the device is reset (its driver restarted) first.
   */
  request(operation: PanelOperation, pid: number): Promise<number> {
    if (!Number.isInteger(pid) || pid <= 0 || pid > 0xffff_ffff) return Promise.reject(new RangeError(`${pid} is not a pid`));
    if (this.queue.length >= PANEL_QUEUE) return Promise.reject(new Error(`the panel has ${PANEL_QUEUE} commands waiting already`));
    return new Promise<number>((settle, refuse) => {
      this.queue.push({ command: CODES[operation], pid, settle, refuse });
      if (!this.shown) this.showNext();
      else this.registers.set(Panel.QUEUED, this.queue.length);
    });
  }

  protected store(index: number, value: number): number {
    if (index === Panel.ANSWER) {
      const answered = this.shown;
      if (!answered) return RegisterError.BAD_VALUE;
      this.shown = null;
      answered.settle(value | 0);
      this.showNext();
      return RegisterError.NONE;
    }
    return index <= Panel.QUEUED ? RegisterError.READ_ONLY : RegisterError.NO_REGISTER;
  }

  /** Reset (a driver restart): what was asked and not answered is refused, not carried out later by surprise. */
  protected powerOn(): void {
    const dropped = [...(this.shown ? [this.shown] : []), ...this.queue.splice(0)];
    this.shown = null;
    for (const pending of dropped) pending.refuse(new Error("the panel was reset (its driver restarted) before it answered"));
    this.show(null);
  }

  private showNext(): void {
    this.shown = this.queue.shift() ?? null;
    this.show(this.shown);
    if (this.shown) this.signal(IRQ_COMMAND);
  }

  private show(pending: Pending | null): void {
    this.registers.set(Panel.COMMAND, pending?.command ?? PanelCommand.NONE);
    this.registers.set(Panel.TARGET, pending?.pid ?? 0);
    if (pending) this.registers.set(Panel.SEQUENCE, ++this.sequence);
    this.registers.set(Panel.QUEUED, this.queue.length);
  }
}
