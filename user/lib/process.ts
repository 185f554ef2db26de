// The calling process: its arguments, identity, end, and its own binary.
import * as sys from "./sys";

// Arguments are usually short; a longer one is fetched again into a buffer of its full length.
const ARG_SCRATCH: i32 = 256;
const argScratch: usize = memory.data(ARG_SCRATCH);

/** Argument `index` (0 is the program name), decoded from UTF-8. */
export function arg(index: i32): string {
  const len = sys.arg_get(index, <i32>argScratch, ARG_SCRATCH);
  if (len <= ARG_SCRATCH) return String.UTF8.decodeUnsafe(argScratch, <usize>max(len, 0));
  const buf = heap.alloc(<usize>len);
  sys.arg_get(index, <i32>buf, len);
  const s = String.UTF8.decodeUnsafe(buf, <usize>len);
  heap.free(buf);
  return s;
}

/** All arguments, the program name first. */
export function args(): string[] {
  const n = sys.arg_count();
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = arg(i);
  return out;
}

/** Ends the process; never returns. */
export function exit(code: i32): void {
  sys.exit(code);
  unreachable(); // the kernel never returns here; this tells the compiler so
}

export function getpid(): i32 {
  return sys.getpid();
}

export function getppid(): i32 {
  return sys.getppid();
}

/** Global (high-half) address of this process's binary, mapped read-only. */
export function imageBase(): usize {
  return <usize>sys.image_base();
}

export function imageSize(): usize {
  return <usize>sys.image_size();
}

/** Fills `len` bytes at `ptr` with random bytes; returns a status. */
export function random(ptr: usize, len: usize): i32 {
  return sys.random(<i32>ptr, <i32>len);
}
