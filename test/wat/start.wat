;; A start function that writes memory and a global, and calls a helper with a loop: exports see
;; its effects, and they see them exactly once.
(module
  (memory 1 2)
  (global $runs (mut i32) (i32.const 0))
  (start $start)
  (func $start
    (global.set $runs (i32.add (global.get $runs) (i32.const 1)))
    (call $fill (i32.const 4096) (i32.const 1000)))
  (func $fill (param $a i32) (param $n i32)
    (loop $next
      (i32.store16 (local.get $a) (i32.add (i32.load16_u (local.get $a)) (local.get $n)))
      (local.set $a (i32.add (local.get $a) (i32.const 3)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $next (local.get $n))))
  (func (export "runs") (result i32) (global.get $runs))
  (func (export "read") (param $a i32) (result i32) (i32.load (local.get $a)))
  (func (export "sum") (result i64) (local $a i32) (local $s i64)
    (local.set $a (i32.const 4096))
    (loop $next
      (local.set $s (i64.add (i64.mul (local.get $s) (i64.const 31)) (i64.load16_u (local.get $a))))
      (local.set $a (i32.add (local.get $a) (i32.const 2)))
      (br_if $next (i32.lt_u (local.get $a) (i32.const 8192))))
    (local.get $s))
)
