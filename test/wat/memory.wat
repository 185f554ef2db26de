;; memory.size and memory.grow: growth within the declared maximum of 3 pages succeeds and gives
;; zeroed, usable memory; growth past it (or by a huge delta) fails with -1 and changes nothing.
(module
  (memory 1 3)
  (data (i32.const 65500) "\de\ad\be\ef")

  (func (export "size") (result i32) (memory.size))

  ;; old size * 1000 + new size, e.g. 1002 for a successful grow by 1, -999 for a failed one.
  (func (export "grow") (param $delta i32) (result i32)
    (i32.add (i32.mul (memory.grow (local.get $delta)) (i32.const 1000)) (memory.size)))

  ;; Grows, then writes the last 8 bytes of memory and reads them back with bytes before them
  ;; (zero in fresh memory; the data segment's when nothing grew).
  (func (export "grow and touch") (param $delta i32) (result i64) (local $end i32)
    (drop (memory.grow (local.get $delta)))
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (i64.store (i32.sub (local.get $end) (i32.const 8)) (i64.const 0x0102030405060708))
    (i64.add
      (i64.load (i32.sub (local.get $end) (i32.const 8)))
      (i64.add (i64.load8_u (i32.sub (local.get $end) (i32.const 9)))
               (i64.load (i32.sub (local.get $end) (i32.const 40))))))

  ;; Grow by 1 until it fails: the sizes seen, packed one per byte.
  (func (export "grow until full") (result i64) (local $h i64) (local $r i32)
    (loop $next
      (local.set $r (memory.grow (i32.const 1)))
      (local.set $h (i64.or (i64.shl (local.get $h) (i64.const 8)) (i64.extend_i32_u (i32.and (local.get $r) (i32.const 0xff)))))
      (br_if $next (i32.ge_s (local.get $r) (i32.const 0))))
    (i64.or (i64.shl (local.get $h) (i64.const 8)) (i64.extend_i32_u (memory.size))))

  ;; An access just past the end traps; after a grow it does not.
  (func (export "load at") (param $a i32) (result i32) (i32.load (local.get $a)))
  (func (export "grow then load at") (param $delta i32) (param $a i32) (result i32)
    (drop (memory.grow (local.get $delta)))
    (i32.load (local.get $a)))
)
