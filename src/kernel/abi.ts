import { Status } from "./errors.ts";
import { sig, type ImportModuleSpec, waiting } from "./personality.ts";
import type { KernelServices } from "./services.ts";

/**
 * The `dogma` import module: the one general call `invoke`, and the fast primitives. docs/ABI.md
 * describes each; test/abi-doc.test.ts keeps the two in step.
 */
export const DOGMA_MODULE = "dogma";

const encoder = new TextEncoder();

export const dogmaAbi: ImportModuleSpec<KernelServices> = {
  module: DOGMA_MODULE,
  functions: {
    // Most invokes a program makes often are IPC that waits (call, reply and receive).
    invoke: waiting(["i32", "i32", "i32"], ["i32"]),
    futex_wait: waiting(["i32", "i32", "i64"], ["i32"]),
    futex_wake: sig(["i32", "i32"], ["i32"]),
    yield: waiting([], []),
    yield_to: waiting(["i32"], ["i32"]),
    sleep: waiting(["i64"], []),
    exit: waiting(["i32"], []),
    getpid: sig([], ["i32"]),
    getppid: sig([], ["i32"]),
    clock: sig(["i32"], ["i64"]),
    random: sig(["i32", "i32"], ["i32"], true),
    arg_count: sig([], ["i32"]),
    arg_get: sig(["i32", "i32", "i32"], ["i32"], true),
    console_write: sig(["i32", "i32", "i32"], ["i32"], true),
    console_read: waiting(["i32", "i32"], ["i32"]),
    image_base: sig([], ["i32"]),
    image_size: sig([], ["i32"]),
  },
  bind(k) {
    return {
      invoke: (cap: number, msgPtr: number, msgLen: number) => k.invoke(k.current(), cap, { ptr: msgPtr, capacity: msgLen }),
      futex_wait(addr: number, expected: number, ns: bigint) {
        const wait = BigInt.asUintN(64, ns);
        return k.futexWait(k.current(), addr, expected, wait === 0xffff_ffff_ffff_ffffn ? Infinity : Number(wait));
      },
      futex_wake: (addr: number, count: number) => k.futexWake(k.current(), addr, count),
      yield: () => k.yield(k.current()),
      yield_to: (pid: number) => k.yieldTo(k.current(), pid),
      sleep: (ns: bigint) => k.sleep(k.current(), Number(BigInt.asUintN(64, ns))),
      exit: (code: number) => k.exit(k.current(), code),
      getpid: () => k.current().pid,
      getppid: () => k.current().descriptor.ppid,
      clock(id: number): bigint {
        if (id === 0) return BigInt(Math.round(k.clock.monotonicNs()));
        if (id === 1) return k.clock.wallNs();
        return BigInt(Status.E_INVALID_ARGUMENT);
      },
      random(ptr: number, len: number): number {
        if (len < 0 || len > 1 << 20) return Status.E_INVALID_ARGUMENT;
        const bytes = new Uint8Array(len);
        k.entropy.fill(bytes);
        return k.writeMemory(k.current(), ptr, bytes) ? Status.OK : Status.E_BAD_ADDRESS;
      },
      arg_count: () => k.current().args.length,
      arg_get(index: number, buf: number, bufLen: number): number {
        const args = k.current().args;
        if (index < 0 || index >= args.length || bufLen < 0) return Status.E_INVALID_ARGUMENT;
        const bytes = encoder.encode(args[index]);
        const copied = bytes.subarray(0, Math.min(bytes.length, bufLen));
        return k.writeMemory(k.current(), buf, copied) ? bytes.length : Status.E_BAD_ADDRESS;
      },
      console_write(stream: number, ptr: number, len: number): number {
        if (stream !== 1 && stream !== 2) return Status.E_INVALID_ARGUMENT;
        if (len < 0) return Status.E_INVALID_ARGUMENT;
        const bytes = k.readMemory(k.current(), ptr, len);
        if (bytes === null) return Status.E_BAD_ADDRESS;
        const status = k.consoleWrite(stream, bytes);
        return status < 0 ? status : len;
      },
      async console_read(ptr: number, len: number): Promise<number> {
        const process = k.current();
        if (len < 0) return Status.E_INVALID_ARGUMENT;
        if (len === 0) return 0;
        // Input taken from the console cannot be given back: the buffer is made resident first.
        k.touch(process, ptr >>> 0, len);
        const bytes = await k.consoleRead(process, len);
        return k.writeMemory(process, ptr, bytes) ? bytes.length : Status.E_BAD_ADDRESS;
      },
      image_base: () => k.current().imageBase | 0,
      image_size: () => (k.current().imageBase === 0 ? 0 : k.current().image.bytes.length),
    };
  },
};

