/**
 * A debugger the test drives: a real process (it holds the capabilities, it is the caller the
 * kernel checks, its end is a debugger's end) that sits blocked in a receive, while the test
 * invokes the debugging operations in its name, between two of the machine's slices, through the
 * one system call (`invoke`), with its message buffer in its own memory. Its events Receiver is
 * read from the host: what DEBUG_STOPPED messages the kernel sent it.
 */
import { Capability } from "../../src/kernel/caps/capability.ts";
import { invoke } from "../../src/kernel/caps/invoke.ts";
import { Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import type { Kernel } from "../../src/kernel/kernel.ts";
import type { DeliveredMessage } from "../../src/kernel/message.ts";
import type { Process } from "../../src/kernel/process.ts";
import { patience } from "./patience.ts";
import type { TestMachine } from "./test-host.ts";
import { wat } from "./wat.ts";

const BUFFER = 0x2000;
const CAPACITY = 292;

/** Blocks for ever in a receive on slot 2 (a Receiver nothing sends to). */
const PARKED = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 1)
  (func (export "_start")
    (i32.store (i32.const 0x1000) (i32.const ${Op.RECEIVER_RECEIVE}))
    (drop (call $invoke (i32.const 2) (i32.const 0x1000) (i32.const 292)))
    (unreachable)))`);

export interface Answer {
  readonly status: number;
  readonly words: readonly number[];
  readonly caps: readonly number[];
}

export class HostDebugger {
  readonly process: Process;
  /** Where DEBUG_STOPPED messages wait for the test. */
  readonly events = new Receiver(64);
  private readonly kernel: Kernel;

  private constructor(kernel: Kernel, process: Process) {
    this.kernel = kernel;
    this.process = process;
  }

  static async start(t: TestMachine): Promise<HostDebugger> {
    const image = await t.loader.load(PARKED, "debugger");
    const process = t.kernel.spawn(image, { caps: [t.kernel.capability(new Receiver(1), Rights.RECEIVER_RECEIVE)] });
    return new HostDebugger(t.kernel, process);
  }

  /** Installs a capability in the debugger's table: its slot. */
  give(cap: Capability): number {
    return this.process.caps.install(cap);
  }

  /** A send capability to the events Receiver, in the debugger's table: its slot. */
  eventsSlot(): number {
    return this.give(new Capability(this.events, Rights.RECEIVER_SEND));
  }

  /** Invokes `cap` with `label`, `words` and `caps` as the debugger; the status and the answer. */
  call(cap: number, label: number, words: readonly number[] = [], caps: readonly number[] = []): Answer | Promise<Answer> {
    const header = [label >>> 0, words.length, caps.length, 0, 0];
    const message = Uint32Array.from([...header, ...words.map((w) => w >>> 0), ...caps.map((c) => c >>> 0)]);
    this.process.space.write(BUFFER, new Uint8Array(message.buffer));
    let answered: DeliveredMessage | null = null;
    const result = invoke(this.kernel, this.process, cap, { ptr: BUFFER, capacity: CAPACITY, inbox: (m) => void (answered = m) });
    const settle = (status: number): Answer => {
      const got = answered as DeliveredMessage | null;
      return { status, words: got?.words ?? [], caps: got?.caps ?? [] };
    };
    return typeof result === "number" ? settle(result) : result.then(settle);
  }

  /** `call` for an operation that never blocks. */
  now(cap: number, label: number, words: readonly number[] = [], caps: readonly number[] = []): Answer {
    const answer = this.call(cap, label, words, caps);
    if (answer instanceof Promise) throw new Error(`operation 0x${label.toString(16)} blocked`);
    return answer;
  }

  /** The next DEBUG_STOPPED (or other kernel message) the debugger was sent, or null. */
  takeEvent(): { label: number; words: number[] } | null {
    const envelope = this.events.take();
    return envelope ? { label: envelope.label, words: [...envelope.words] } : null;
  }
}

/**
 * Keeps the machine running while the test waits for `done` (asked once a round): `run` returns
 * whenever nothing can go on (a target stopped, the debugger blocked), and is started again.
 */
export async function until(kernel: Kernel, done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + patience(10_000);
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await kernel.run();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
