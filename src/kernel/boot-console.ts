import type { ConsoleDevice } from "../machine/devices.ts";
import type { Process } from "./process.ts";

/**
 * The kernel's own console, as early kernels have one before a console driver exists: input
 * arrives by interrupt into a buffer; readers that find it empty wait in order.
 */
export class BootConsole {
  private readonly device: ConsoleDevice;
  private buffered = new Uint8Array(0);
  private ended = false;
  private readonly readers: Array<{ process: Process; max: number }> = [];

  constructor(device: ConsoleDevice) {
    this.device = device;
  }

  /** Buffered input (empty at end of input), or null when the caller must wait. */
  take(max: number): Uint8Array | null {
    if (this.buffered.length > 0) {
      const taken = this.buffered.slice(0, max);
      this.buffered = this.buffered.subarray(taken.length);
      return taken;
    }
    if (this.ended) return new Uint8Array(0);
    this.device.requestInput();
    return null;
  }

  await(process: Process, max: number): void {
    this.readers.push({ process, max });
  }

  hasReaders(): boolean {
    return this.readers.length > 0;
  }

  cancel(process: Process): void {
    const at = this.readers.findIndex((reader) => reader.process === process);
    if (at >= 0) this.readers.splice(at, 1);
  }

  /** Takes an input interrupt; returns the readers it satisfies with what each gets. */
  deliver(data: Uint8Array | null): Array<[Process, Uint8Array]> {
    if (data === null) this.ended = true;
    else {
      const joined = new Uint8Array(this.buffered.length + data.length);
      joined.set(this.buffered);
      joined.set(data, this.buffered.length);
      this.buffered = joined;
    }
    const satisfied: Array<[Process, Uint8Array]> = [];
    while (this.readers.length > 0) {
      const taken = this.take(this.readers[0]!.max);
      if (taken === null) break;
      satisfied.push([this.readers.shift()!.process, taken]);
    }
    return satisfied;
  }
}
