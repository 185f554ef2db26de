import { wat } from "../helpers/wat.ts";

/**
 * Small WAT processes for capability tests. Each keeps one message buffer at 8192 (5-word header,
 * then words, then capability indices; capacity 292) and talks to the kernel through `invoke`.
 */
const BUF = 8192;

const prelude = `
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 1)
  (func $msg (param $label i32) (param $n i32) (param $c i32)
    (i32.store (i32.const ${BUF}) (local.get $label))
    (i32.store (i32.const ${BUF + 4}) (local.get $n))
    (i32.store (i32.const ${BUF + 8}) (local.get $c))
    (i32.store (i32.const ${BUF + 12}) (i32.const 0)))
  (func $word (param $i i32) (result i32) (i32.load offset=${BUF + 20} (i32.shl (local.get $i) (i32.const 2))))
  (func $setword (param $i i32) (param $v i32) (i32.store offset=${BUF + 20} (i32.shl (local.get $i) (i32.const 2)) (local.get $v)))
  (func $call (param $cap i32) (result i32) (call $invoke (local.get $cap) (i32.const ${BUF}) (i32.const 292)))
`;

/**
 * `serve(recv)`: receives on `recv` for ever; answers each message with label+1 and its first word
 * plus one (reply-and-receive), and its badge as the second word. Returns the first error.
 */
export const echoServer = () =>
  wat(`(module ${prelude}
  (func (export "serve") (param $recv i32) (result i32)
    (local $r i32) (local $reply i32)
    (call $msg (i32.const 0xffff0300) (i32.const 0) (i32.const 0))
    (local.set $r (call $call (local.get $recv)))
    (loop $serve
      (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
      (local.set $reply (i32.load (i32.const ${BUF + 16})))
      (call $setword (i32.const 1) (i32.load (i32.const ${BUF + 12})))
      (call $setword (i32.const 0) (i32.add (call $word (i32.const 0)) (i32.const 1)))
      (call $msg (i32.add (i32.load (i32.const ${BUF})) (i32.const 1)) (i32.const 2) (i32.const 0))
      (i32.store (i32.const ${BUF + 12}) (local.get $recv))
      (local.set $r (call $call (local.get $reply)))
      (br $serve))
    (unreachable)))`);

/**
 * `run(cap, n)`: calls `cap` n times with label 7 and word i; checks each answer (label 8, word
 * i+1). Returns n, or a negative status, or -1000-i when answer i was wrong.
 */
export const echoClient = () =>
  wat(`(module ${prelude}
  (func (export "run") (param $cap i32) (param $n i32) (result i32)
    (local $i i32) (local $r i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $msg (i32.const 7) (i32.const 1) (i32.const 0))
        (call $setword (i32.const 0) (local.get $i))
        (local.set $r (call $call (local.get $cap)))
        (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
        (if (i32.ne (i32.load (i32.const ${BUF})) (i32.const 8)) (then (return (i32.sub (i32.const -1000) (local.get $i)))))
        (if (i32.ne (call $word (i32.const 0)) (i32.add (local.get $i) (i32.const 1))) (then (return (i32.sub (i32.const -1000) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $n)))`);

/** `block(recv)`: one receive on `recv`, for ever; returns its status. */
export const receiveOnce = () =>
  wat(`(module ${prelude}
  (func (export "block") (param $recv i32) (result i32)
    (call $msg (i32.const 0xffff0300) (i32.const 0) (i32.const 0))
    (call $call (local.get $recv))))`);
