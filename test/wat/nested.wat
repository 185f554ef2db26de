;; Stores whose operands contain other loads and stores. The rewriter keeps a store's pointer and
;; value in scratch locals while the value operand runs; a nested store must not clobber them, and
;; WebAssembly's order (pointer, then value, then the store) must hold. Each export returns a
;; checksum of memory (or a value read back) computed by the module itself.
(module
  (memory 2 4)
  (start $seed)

  (func $seed (local $a i32)
    (local.set $a (i32.const 4096))
    (loop $next
      (i32.store8 (local.get $a) (i32.add (i32.mul (local.get $a) (i32.const 157)) (i32.shr_u (local.get $a) (i32.const 7))))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $a) (i32.const 131072)))))

  (func $checksum (result i64) (local $a i32) (local $h i64)
    (local.set $a (i32.const 4096))
    (local.set $h (i64.const 0xcbf29ce484222325))
    (loop $next
      (local.set $h (i64.mul (i64.xor (i64.rotl (local.get $h) (i64.const 5)) (i64.load (local.get $a))) (i64.const 0x100000001b3)))
      (local.set $a (i32.add (local.get $a) (i32.const 8)))
      (br_if $next (i32.lt_u (local.get $a) (i32.const 131072))))
    (local.get $h))

  ;; Three levels: i64.store ← i32.store ← i32.store16, each reading what is below it.
  (func (export "three levels") (param $a i32) (result i64)
    (i64.store (local.get $a)
      (i64.add
        (i64.load offset=8 (local.get $a))
        (block (result i64)
          (i32.store offset=16 (local.get $a)
            (i32.add
              (i32.load offset=20 (local.get $a))
              (block (result i32)
                (i32.store16 offset=24 (local.get $a) (i32.const 0xbeef))
                (i32.load16_s offset=24 (local.get $a)))))
          (i64.load offset=13 (local.get $a)))))
    (call $checksum))

  ;; The inner store writes where the outer one will: the outer store, which runs last, wins.
  (func (export "outer store wins") (param $a i32) (result i64)
    (i64.store (local.get $a)
      (block (result i64)
        (i64.store (local.get $a) (i64.const 0x1111111111111111))
        (i64.const 0x2222222222222222)))
    (i64.load (local.get $a)))

  ;; The pointer is evaluated before the value: a store in the pointer operand sees the old
  ;; memory, a store in the value operand runs after the pointer is known.
  (func (export "store in pointer") (param $a i32) (result i64)
    (i32.store
      (block (result i32)
        (i32.store (local.get $a) (i32.const 24))
        (i32.add (local.get $a) (i32.load (local.get $a))))
      (block (result i32)
        (i32.store (local.get $a) (i32.const 48))
        (i32.load (local.get $a))))
    (call $checksum))

  ;; Mixed types, four deep: f64 ← f32 ← i64.store8 ← i32.store, unaligned and page-crossing
  ;; when $a is near a page end.
  (func (export "mixed types") (param $a i32) (result i64)
    (f64.store offset=1 (local.get $a)
      (f64.add
        (f64.load offset=9 (local.get $a))
        (f64.promote_f32
          (block (result f32)
            (f32.store offset=2 (local.get $a)
              (f32.convert_i64_s
                (block (result i64)
                  (i64.store8 offset=5 (local.get $a)
                    (block (result i64)
                      (i32.store offset=7 (local.get $a) (i32.const -559038737))
                      (i64.load offset=3 (local.get $a))))
                  (i64.load16_u offset=4 (local.get $a)))))
            (f32.load offset=2 (local.get $a))))))
    (call $checksum))

  ;; Two sibling stores at the same depth inside one value (they share scratch slots), followed
  ;; by an outer store that needs its own pointer intact.
  (func (export "siblings") (param $a i32) (param $b i32) (result i64)
    (i32.store (local.get $b)
      (i32.add
        (block (result i32) (i32.store (local.get $a) (i32.const 1000)) (i32.load (local.get $a)))
        (block (result i32) (i32.store offset=4 (local.get $a) (i32.const 2000)) (i32.load offset=4 (local.get $a)))))
    (call $checksum))

  ;; A store inside a loop inside a store's value: scratch locals survive safe points and calls.
  (func (export "loop in value") (param $a i32) (result i64) (local $i i32)
    (i64.store (local.get $a)
      (block (result i64)
        (loop $next
          (i32.store8 (i32.add (local.get $a) (i32.add (i32.const 8) (local.get $i))) (local.get $i))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $next (i32.lt_u (local.get $i) (i32.const 300))))
        (i64.add (call $checksum) (i64.load offset=8 (local.get $a)))))
    (call $checksum))
)
