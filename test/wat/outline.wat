;; Loops of every shape loop outlining takes (src/loader/outline-plan.ts): values left by the
;; loop, branches out of it carrying values (br, br_if, br_table), returns from inside it, nested
;; loops, a loop inside blocks with values below it on the stack, memory accesses inside, calls.
;; differential.test.ts runs it with every eligible loop outlined and re-entered every 3 headers.
(module
  (memory 2)
  (type $pair (func (result i32 i64)))

  ;; 1 + 2 + ... + n, left by the loop itself.
  (func (export "sum to") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (loop $again (result i32)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.set $s (i32.add (local.get $s) (local.get $i)))
      (br_if $again (i32.lt_s (local.get $i) (local.get $n)))
      (local.get $s)))

  ;; Two values left by the loop (a type index block type).
  (func (export "pair") (param $n i32) (result i64)
    (local $i i32) (local $p i64)
    (loop $again (type $pair)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.set $p (i64.add (i64.mul (local.get $p) (i64.const 31)) (i64.extend_i32_u (local.get $i))))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n)))
      (local.get $i)
      (local.get $p))
    local.set $p
    i64.extend_i32_u
    local.get $p
    i64.add)

  ;; Writes n words from `at`, then looks for x: a branch out carrying the index found, a return
  ;; of -2 from inside the loop when a word is 13, -1 when the loop ends.
  (func (export "find") (param $at i32) (param $n i32) (param $x i32) (result i32)
    (local $i i32)
    (loop $fill
      (i32.store (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2))) (i32.mul (local.get $i) (i32.const 3)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (local.get $n))))
    (local.set $i (i32.const 0))
    (block $found (result i32)
      (loop $look
        (if (i32.eq (i32.load (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 13))
          (then (return (i32.const -2))))
        (drop (br_if $found (local.get $i) (i32.eq (i32.load (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2)))) (local.get $x))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $look (i32.lt_u (local.get $i) (local.get $n))))
      (i32.const -1)))

  ;; A br_table out of the loop to three blocks carrying i64s, and a br_if to one without a value.
  (func (export "switch exits") (param $k i32) (param $n i32) (result i64)
    (local $i i32) (local $acc i64)
    (block $none
      (return
        (i64.add (i64.const 1000)
          (block $a (result i64)
            (i64.mul (i64.const 3)
              (block $b (result i64)
                (i64.sub (i64.const 0)
                  (block $c (result i64)
                    (loop $again
                      (local.set $i (i32.add (local.get $i) (i32.const 1)))
                      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
                      (br_if $again (i32.lt_u (local.get $i) (local.get $n)))
                      (br_if $none (i32.eq (local.get $k) (i32.const 7)))
                      (br_table $c $b $a $a (local.get $acc) (local.get $k)))
                    (i64.const 99)))))))))
    (i64.const -7))

  ;; A nest of loops: the outer counts rounds, the middle walks memory, the inner hashes each
  ;; word's bytes; the inner leaves the whole nest with an f64 when a byte is 0xff.
  (func (export "nested") (param $rounds i32) (param $words i32) (result f64)
    (local $r i32) (local $w i32) (local $b i32) (local $h i32) (local $v i32)
    (block $out (result f64)
      (loop $round
        (local.set $w (i32.const 0))
        (loop $word
          (local.set $v (i32.load offset=4096 (i32.shl (local.get $w) (i32.const 2))))
          (local.set $b (i32.const 0))
          (loop $byte
            (drop (br_if $out (f64.convert_i32_u (local.get $h))
              (i32.eq (i32.and (i32.shr_u (local.get $v) (i32.shl (local.get $b) (i32.const 3))) (i32.const 0xff)) (i32.const 0xff))))
            (local.set $h (i32.mul (i32.xor (local.get $h) (i32.shr_u (local.get $v) (i32.shl (local.get $b) (i32.const 3)))) (i32.const 16777619)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br_if $byte (i32.lt_u (local.get $b) (i32.const 4))))
          (i32.store offset=4096 (i32.shl (local.get $w) (i32.const 2)) (i32.add (local.get $v) (local.get $h)))
          (local.set $w (i32.add (local.get $w) (i32.const 1)))
          (br_if $word (i32.lt_u (local.get $w) (local.get $words))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $round (i32.lt_u (local.get $r) (local.get $rounds))))
      (f64.add (f64.const 0.5) (f64.convert_i32_u (local.get $h)))))

  ;; A loop inside blocks with values below it on the stack, which it must leave alone.
  (func (export "values below") (param $n i32) (result i32)
    (local $i i32)
    (i32.add (i32.const 1000000)
      (i32.sub (i32.const 7)
        (block $b (result i32)
          (i32.mul (i32.const 5)
            (loop $again (result i32)
              (local.set $i (i32.add (local.get $i) (i32.const 2)))
              (drop (br_if $b (i32.const 77) (i32.gt_u (local.get $i) (i32.const 1000))))
              (br_if $again (i32.lt_u (local.get $i) (local.get $n)))
              (local.get $i)))))))

  ;; A return of an f32 from the innermost of two loops, and a call inside.
  (func $twice (param i32) (result i32) (i32.shl (local.get 0) (i32.const 1)))
  (func (export "return from inner") (param $n i32) (result f32)
    (local $i i32) (local $j i32) (local $t i32)
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $t (i32.add (local.get $t) (call $twice (local.get $j))))
        (if (i32.gt_u (local.get $t) (local.get $n)) (then (return (f32.convert_i32_u (local.get $t)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $j) (i32.const 10))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (i32.const 100))))
    (f32.const -1))
)
