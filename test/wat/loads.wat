;; Every load instruction (all types, widths and signednesses) at static offsets 0, 3, 65536 and
;; 0xFFFFFFF0. Each export loads at its argument; f32/f64 come back as their bits so that NaN
;; payloads are compared exactly. The test calls them at aligned, unaligned, page-crossing and
;; out-of-bounds addresses; with offset 0xFFFFFFF0 every pointer >= 0x10 puts ptr+offset past
;; 4 GiB, which must trap even though the sum wraps to a small 32-bit number.
(module
  (memory 2 4)
  ;; Bytes with the high bit set where sign extension shows, straddling the 4 KiB page at 8192
  ;; and the 64 KiB page at 65536; quiet NaNs with a payload at unaligned addresses (so a load
  ;; takes the slow path): f64 at 65531 (crossing 65536), f32 at 65539 and, negative, at 65547.
  (data (i32.const 8176) "\c0\ff\01\fe\7f\81\c3\3c\a5\5a\00\ff\80\00\01\02\f0\0f\e1\1e\d2\2d\c3\3c\b4\4b\a5\5a\96\69\87\78")
  (data (i32.const 65520) "\fe\ff\ff\7f\00\00\80\ff\01\80\aa\01\00\00\00\00\00\f8\7f\01\00\c0\7f\fe\ff\ff\ff\00\00\c0\ff\80")
  (start $seed)

  ;; Fills the rest of [4096, 131072) with a pattern: every byte is known and differs from its
  ;; neighbours (page 0 is left alone: Dogma never maps it). The data above is kept as it is.
  ;; Pattern bytes have bit 3 clear, so they are never 0x7f or 0xff and no float read here is a
  ;; signalling NaN (the data is chosen so too): those are tested in nan-bits.test.ts.
  (func $seed (local $a i32)
    (local.set $a (i32.const 4096))
    (loop $next
      (if (i32.and (i32.ge_u (i32.sub (local.get $a) (i32.const 8176)) (i32.const 32))
                   (i32.ge_u (i32.sub (local.get $a) (i32.const 65520)) (i32.const 32)))
        (then (i32.store8 (local.get $a)
          (i32.and (i32.add (i32.mul (local.get $a) (i32.const 157)) (i32.shr_u (local.get $a) (i32.const 7))) (i32.const 0xf7)))))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $a) (i32.const 131072)))))

  ;; h = (rotl(h, 5) ^ v) * FNV prime
  (func $mix (param $h i64) (param $v i64) (result i64)
    (i64.mul (i64.xor (i64.rotl (local.get $h) (i64.const 5)) (local.get $v)) (i64.const 0x100000001b3)))

  ;; Every load kind at every byte address of [a, a + n): mixes fast-path and slow-path accesses
  ;; in one call, and traps at the first access that reaches past the end.
  (func (export "sweep") (param $a i32) (param $n i32) (result i64) (local $end i32) (local $h i64)
    (local.set $end (i32.add (local.get $a) (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $h (call $mix (local.get $h) (i64.extend_i32_s (i32.load (local.get $a)))))
        (local.set $h (call $mix (local.get $h) (i64.extend_i32_s (i32.load8_s (local.get $a)))))
        (local.set $h (call $mix (local.get $h) (i64.extend_i32_u (i32.load8_u (local.get $a)))))
        (local.set $h (call $mix (local.get $h) (i64.extend_i32_s (i32.load16_s (local.get $a)))))
        (local.set $h (call $mix (local.get $h) (i64.extend_i32_u (i32.load16_u (local.get $a)))))
        (local.set $h (call $mix (local.get $h) (i64.load (local.get $a))))
        (local.set $h (call $mix (local.get $h) (i64.load8_s (local.get $a))))
        (local.set $h (call $mix (local.get $h) (i64.load8_u (local.get $a))))
        (local.set $h (call $mix (local.get $h) (i64.load16_s (local.get $a))))
        (local.set $h (call $mix (local.get $h) (i64.load16_u (local.get $a))))
        (local.set $h (call $mix (local.get $h) (i64.load32_s (local.get $a))))
        (local.set $h (call $mix (local.get $h) (i64.load32_u (local.get $a))))
        (local.set $h (call $mix (local.get $h) (i64.extend_i32_u (i32.reinterpret_f32 (f32.load (local.get $a))))))
        (local.set $h (call $mix (local.get $h) (i64.reinterpret_f64 (f64.load (local.get $a)))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $next)))
    (local.get $h))

  ;; Floats as floats too (an f64 result crosses to JS as a number).
  (func (export "f64.load as f64") (param $a i32) (result f64) (f64.load (local.get $a)))
  (func (export "f32.load as f64") (param $a i32) (result f64) (f64.promote_f32 (f32.load (local.get $a))))

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

  (func (export "i32.load offset=3") (param $a i32) (result i32) (i32.load offset=3 (local.get $a)))
  (func (export "i32.load8_s offset=3") (param $a i32) (result i32) (i32.load8_s offset=3 (local.get $a)))
  (func (export "i32.load8_u offset=3") (param $a i32) (result i32) (i32.load8_u offset=3 (local.get $a)))
  (func (export "i32.load16_s offset=3") (param $a i32) (result i32) (i32.load16_s offset=3 (local.get $a)))
  (func (export "i32.load16_u offset=3") (param $a i32) (result i32) (i32.load16_u offset=3 (local.get $a)))
  (func (export "i64.load offset=3") (param $a i32) (result i64) (i64.load offset=3 (local.get $a)))
  (func (export "i64.load8_s offset=3") (param $a i32) (result i64) (i64.load8_s offset=3 (local.get $a)))
  (func (export "i64.load8_u offset=3") (param $a i32) (result i64) (i64.load8_u offset=3 (local.get $a)))
  (func (export "i64.load16_s offset=3") (param $a i32) (result i64) (i64.load16_s offset=3 (local.get $a)))
  (func (export "i64.load16_u offset=3") (param $a i32) (result i64) (i64.load16_u offset=3 (local.get $a)))
  (func (export "i64.load32_s offset=3") (param $a i32) (result i64) (i64.load32_s offset=3 (local.get $a)))
  (func (export "i64.load32_u offset=3") (param $a i32) (result i64) (i64.load32_u offset=3 (local.get $a)))
  (func (export "f32.load offset=3") (param $a i32) (result i32) (i32.reinterpret_f32 (f32.load offset=3 (local.get $a))))
  (func (export "f64.load offset=3") (param $a i32) (result i64) (i64.reinterpret_f64 (f64.load offset=3 (local.get $a))))

  (func (export "i32.load offset=65536") (param $a i32) (result i32) (i32.load offset=65536 (local.get $a)))
  (func (export "i32.load8_s offset=65536") (param $a i32) (result i32) (i32.load8_s offset=65536 (local.get $a)))
  (func (export "i32.load8_u offset=65536") (param $a i32) (result i32) (i32.load8_u offset=65536 (local.get $a)))
  (func (export "i32.load16_s offset=65536") (param $a i32) (result i32) (i32.load16_s offset=65536 (local.get $a)))
  (func (export "i32.load16_u offset=65536") (param $a i32) (result i32) (i32.load16_u offset=65536 (local.get $a)))
  (func (export "i64.load offset=65536") (param $a i32) (result i64) (i64.load offset=65536 (local.get $a)))
  (func (export "i64.load8_s offset=65536") (param $a i32) (result i64) (i64.load8_s offset=65536 (local.get $a)))
  (func (export "i64.load8_u offset=65536") (param $a i32) (result i64) (i64.load8_u offset=65536 (local.get $a)))
  (func (export "i64.load16_s offset=65536") (param $a i32) (result i64) (i64.load16_s offset=65536 (local.get $a)))
  (func (export "i64.load16_u offset=65536") (param $a i32) (result i64) (i64.load16_u offset=65536 (local.get $a)))
  (func (export "i64.load32_s offset=65536") (param $a i32) (result i64) (i64.load32_s offset=65536 (local.get $a)))
  (func (export "i64.load32_u offset=65536") (param $a i32) (result i64) (i64.load32_u offset=65536 (local.get $a)))
  (func (export "f32.load offset=65536") (param $a i32) (result i32) (i32.reinterpret_f32 (f32.load offset=65536 (local.get $a))))
  (func (export "f64.load offset=65536") (param $a i32) (result i64) (i64.reinterpret_f64 (f64.load offset=65536 (local.get $a))))

  (func (export "i32.load offset=0xFFFFFFF0") (param $a i32) (result i32) (i32.load offset=0xFFFFFFF0 (local.get $a)))
  (func (export "i32.load8_s offset=0xFFFFFFF0") (param $a i32) (result i32) (i32.load8_s offset=0xFFFFFFF0 (local.get $a)))
  (func (export "i32.load8_u offset=0xFFFFFFF0") (param $a i32) (result i32) (i32.load8_u offset=0xFFFFFFF0 (local.get $a)))
  (func (export "i32.load16_s offset=0xFFFFFFF0") (param $a i32) (result i32) (i32.load16_s offset=0xFFFFFFF0 (local.get $a)))
  (func (export "i32.load16_u offset=0xFFFFFFF0") (param $a i32) (result i32) (i32.load16_u offset=0xFFFFFFF0 (local.get $a)))
  (func (export "i64.load offset=0xFFFFFFF0") (param $a i32) (result i64) (i64.load offset=0xFFFFFFF0 (local.get $a)))
  (func (export "i64.load8_s offset=0xFFFFFFF0") (param $a i32) (result i64) (i64.load8_s offset=0xFFFFFFF0 (local.get $a)))
  (func (export "i64.load8_u offset=0xFFFFFFF0") (param $a i32) (result i64) (i64.load8_u offset=0xFFFFFFF0 (local.get $a)))
  (func (export "i64.load16_s offset=0xFFFFFFF0") (param $a i32) (result i64) (i64.load16_s offset=0xFFFFFFF0 (local.get $a)))
  (func (export "i64.load16_u offset=0xFFFFFFF0") (param $a i32) (result i64) (i64.load16_u offset=0xFFFFFFF0 (local.get $a)))
  (func (export "i64.load32_s offset=0xFFFFFFF0") (param $a i32) (result i64) (i64.load32_s offset=0xFFFFFFF0 (local.get $a)))
  (func (export "i64.load32_u offset=0xFFFFFFF0") (param $a i32) (result i64) (i64.load32_u offset=0xFFFFFFF0 (local.get $a)))
  (func (export "f32.load offset=0xFFFFFFF0") (param $a i32) (result i32) (i32.reinterpret_f32 (f32.load offset=0xFFFFFFF0 (local.get $a))))
  (func (export "f64.load offset=0xFFFFFFF0") (param $a i32) (result i64) (i64.reinterpret_f64 (f64.load offset=0xFFFFFFF0 (local.get $a))))
)
