import type { AddressSpace } from "./address-space.ts";
import type { FaultRecord } from "./fault.ts";
import type { LoadedImage } from "./image.ts";
import type { ProcessDescriptor, ProcessState } from "./process-descriptor.ts";

/** What a process ended with: an exit code, or a fault record. */
export type ProcessOutcome =
  | { readonly kind: "exited"; readonly code: number }
  | { readonly kind: "faulted"; readonly fault: FaultRecord };

/**
 * A process: one instance of a loaded image over its own address space. No threads: a process
 * is one stack, which is either running, ready, or suspended (by JSPI) in a kernel call.
 *
 * Invariant: `resume` is set exactly when the process is suspended in a blocking kernel call
 * (or was preempted at a safe point) and has not been resumed since.
 */
export class Process {
  readonly descriptor: ProcessDescriptor;
  readonly image: LoadedImage;
  readonly space: AddressSpace;
  readonly args: readonly string[];
  readonly env: readonly string[];
  /** Live bytes of each data segment: memory.init reads them, data.drop empties them. */
  readonly segments: Uint8Array[];
  /** Global address of the read-only image, or 0 when it is not mapped. */
  imageBase = 0;
  instance: WebAssembly.Instance | null = null;
  fault: FaultRecord | null = null;

  /** Continues the suspended stack with the kernel call's result. */
  resume: ((value: unknown) => void) | null = null;
  /** The value the next resume delivers. */
  wakeValue: unknown = undefined;
  /** Hands the CPU back to the scheduler when this process stops running. */
  switchOut: (() => void) | null = null;
  started = false;
  sliceStartNs = 0;
  /** Monotonic deadline while sleeping. */
  sleepUntilNs = Infinity;

  private readonly exitWaiters: Array<(outcome: ProcessOutcome) => void> = [];
  private outcomeValue: ProcessOutcome | null = null;

  constructor(descriptor: ProcessDescriptor, image: LoadedImage, space: AddressSpace, args: readonly string[], env: readonly string[]) {
    this.descriptor = descriptor;
    this.image = image;
    this.space = space;
    this.args = args;
    this.env = env;
    this.segments = image.segments.map((segment) => (segment.offset === null ? segment.data : new Uint8Array(0)));
  }

  get pid(): number {
    return this.descriptor.pid;
  }

  get state(): ProcessState {
    return this.descriptor.state;
  }

  get alive(): boolean {
    return this.outcomeValue === null;
  }

  get outcome(): ProcessOutcome | null {
    return this.outcomeValue;
  }

  /** Resolves once the process has exited or faulted. */
  wait(): Promise<ProcessOutcome> {
    if (this.outcomeValue) return Promise.resolve(this.outcomeValue);
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /** Records the end; the caller releases resources. Only the first end counts. */
  end(outcome: ProcessOutcome): boolean {
    if (this.outcomeValue) return false;
    this.outcomeValue = outcome;
    if (outcome.kind === "exited") {
      this.descriptor.state = "exited";
      this.descriptor.exitCode = outcome.code;
    } else {
      this.fault = outcome.fault;
      this.descriptor.state = "faulted";
      this.descriptor.exitCode = -1;
      this.descriptor.faultAddress = outcome.fault.address ?? -1;
    }
    for (const waiter of this.exitWaiters.splice(0)) waiter(outcome);
    return true;
  }
}
