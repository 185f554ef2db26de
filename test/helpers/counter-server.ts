import { Op } from "../../src/kernel/caps/object-abi.ts";
import { wat } from "./wat.ts";

/**
 * A counter server: `run` dirties `pages` pages, registers `handle` on the Receiver at slot 2 and
 * returns. Each message adds 1 to a global (not exported by the program) and 10 to a word of
 * memory, and the reply says pid, global, word. `table` adds a table.set, which makes the program
 * unclonable once it has run; `memoryPages` (64 KiB each, 4 by default) bounds what `run` may dirty.
 * For test/kernel/clone-serving.test.ts and bench/process-clone.ts.
 */
export const counterServer = (options: { table?: boolean; name?: string; memoryPages?: number } = {}): Uint8Array => wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (import "dogma" "getpid" (func $getpid (result i32)))
  (memory ${options.memoryPages ?? 4})
  (global $count (mut i32) (i32.const 0))
  ${options.table ? `(table 2 funcref) (elem declare func $handle)` : ""}
  (data (i32.const 0x1000) "${options.name ?? "handle"}")
  (func (export "run") (param $pages i32) (result i32) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
      (i32.store (i32.add (i32.const 0x10000) (i32.shl (local.get $i) (i32.const 12))) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    ${options.table ? `(table.set (i32.const 0) (ref.func $handle))` : ""}
    ;; PROCESS_SERVE on itself: name at 0x1000, the Receiver at slot 2, the buffer at 0x2000 (292 bytes).
    (i32.store (i32.const 0x3000) (i32.const ${Op.PROCESS_SERVE}))
    (i32.store (i32.const 0x3004) (i32.const 5))
    (i32.store (i32.const 0x3008) (i32.const 0))
    (i32.store (i32.const 0x3014) (i32.const 0x1000))
    (i32.store (i32.const 0x3018) (i32.const ${(options.name ?? "handle").length}))
    (i32.store (i32.const 0x301c) (i32.const 2))
    (i32.store (i32.const 0x3020) (i32.const 0x2000))
    (i32.store (i32.const 0x3024) (i32.const 292))
    ;; PROCESS_SERVE's status: what the process ends with when it did not register.
    (call $invoke (i32.const 1) (i32.const 0x3000) (i32.const 64)))
  (func $handle (export "handle") (param $status i32) (result i32)
    (if (i32.lt_s (local.get $status) (i32.const 0)) (then (return (i32.const 9))))
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (i32.store (i32.const 0x4000) (i32.add (i32.load (i32.const 0x4000)) (i32.const 10)))
    ;; A message with label 1 asks it to end (exit code 3).
    (if (i32.eq (i32.load (i32.const 0x2000)) (i32.const 1)) (then (return (i32.const 3))))
    ;; Reply through the message's reply capability: pid, count, word.
    (i32.store (i32.const 0x3000) (i32.const 0))
    (i32.store (i32.const 0x3004) (i32.const 3))
    (i32.store (i32.const 0x3008) (i32.const 0))
    (i32.store (i32.const 0x3014) (call $getpid))
    (i32.store (i32.const 0x3018) (global.get $count))
    (i32.store (i32.const 0x301c) (i32.load (i32.const 0x4000)))
    (drop (call $invoke (i32.load (i32.const 0x2010)) (i32.const 0x3000) (i32.const 64)))
    (i32.const 0))
  (func (export "_start")))`);
