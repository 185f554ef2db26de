;; Loads and stores that miss the software TLB: the kernel's slow path for every access kind,
;; including the 1-byte ones, which are never unaligned and so otherwise always hit once a page
;; is touched. The start function writes a pattern into pages 1 and 2 (4096..12287), then touches
;; the pages 16 MiB above them, which share their TLB entries (4096 entries, one per 4 KiB page),
;; so the first access an export makes to pages 1 and 2 misses.
(module
  (memory 257 257)
  (start $seed)
  (func $seed (local $a i32)
    (local.set $a (i32.const 4096))
    (loop $next
      (i32.store8 (local.get $a) (i32.add (i32.mul (local.get $a) (i32.const 151)) (i32.shr_u (local.get $a) (i32.const 5))))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $a) (i32.const 12288))))
    (drop (i32.load (i32.const 0x1001000)))
    (drop (i32.load (i32.const 0x1002000))))

  ;; FNV-style hash of pages 1 and 2 (after the access under test, so these hit or refill).
  (func $checksum (result i64) (local $a i32) (local $h i64)
    (local.set $a (i32.const 4096))
    (local.set $h (i64.const 0xcbf29ce484222325))
    (loop $next
      (local.set $h (i64.mul (i64.xor (i64.rotl (local.get $h) (i64.const 5)) (i64.load (local.get $a))) (i64.const 0x100000001b3)))
      (local.set $a (i32.add (local.get $a) (i32.const 8)))
      (br_if $next (i32.lt_u (local.get $a) (i32.const 12288))))
    (local.get $h))

  (func (export "i32.load") (param $a i32) (result i32) (i32.load (local.get $a)))
  (func (export "i32.load8_s") (param $a i32) (result i32) (i32.load8_s (local.get $a)))
  (func (export "i32.load8_u") (param $a i32) (result i32) (i32.load8_u (local.get $a)))
  (func (export "i32.load16_s") (param $a i32) (result i32) (i32.load16_s (local.get $a)))
  (func (export "i32.load16_u") (param $a i32) (result i32) (i32.load16_u (local.get $a)))
  (func (export "i64.load") (param $a i32) (result i64) (i64.load (local.get $a)))
  (func (export "i64.load8_s") (param $a i32) (result i64) (i64.load8_s (local.get $a)))
  (func (export "i64.load8_u") (param $a i32) (result i64) (i64.load8_u (local.get $a)))
  (func (export "i64.load16_s") (param $a i32) (result i64) (i64.load16_s (local.get $a)))
  (func (export "i64.load16_u") (param $a i32) (result i64) (i64.load16_u (local.get $a)))
  (func (export "i64.load32_s") (param $a i32) (result i64) (i64.load32_s (local.get $a)))
  (func (export "i64.load32_u") (param $a i32) (result i64) (i64.load32_u (local.get $a)))
  (func (export "f32.load") (param $a i32) (result i32) (i32.reinterpret_f32 (f32.load (local.get $a))))
  (func (export "f64.load") (param $a i32) (result i64) (i64.reinterpret_f64 (f64.load (local.get $a))))

  (func (export "i32.store") (param $a i32) (param $v i32) (result i64) (i32.store (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i32.store8") (param $a i32) (param $v i32) (result i64) (i32.store8 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i32.store16") (param $a i32) (param $v i32) (result i64) (i32.store16 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store") (param $a i32) (param $v i64) (result i64) (i64.store (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store8") (param $a i32) (param $v i64) (result i64) (i64.store8 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store16") (param $a i32) (param $v i64) (result i64) (i64.store16 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store32") (param $a i32) (param $v i64) (result i64) (i64.store32 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "f32.store") (param $a i32) (param $v i32) (result i64) (f32.store (local.get $a) (f32.reinterpret_i32 (local.get $v))) (call $checksum))
  (func (export "f64.store") (param $a i32) (param $v i64) (result i64) (f64.store (local.get $a) (f64.reinterpret_i64 (local.get $v))) (call $checksum))
)
