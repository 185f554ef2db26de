;; Every store instruction (all types and widths) at static offsets 0, 3, 65536 and 0xFFFFFFF0.
;; Each export stores its value at its argument and returns a checksum of the whole memory, so a
;; store that writes the wrong bytes, too many bytes or in the wrong place changes the result.
;; f32/f64 values arrive as bits so that NaN payloads must survive the store exactly.
(module
  (memory 2 4)
  (data (i32.const 8184) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10")
  (start $seed)

  ;; mem[a] ^= pattern(a) over [4096, 131072): a store that lands one byte off changes the checksum.
  (func $seed (local $a i32)
    (local.set $a (i32.const 4096))
    (loop $next
      (i32.store8 (local.get $a)
        (i32.xor (i32.load8_u (local.get $a))
                 (i32.add (i32.mul (local.get $a) (i32.const 157)) (i32.shr_u (local.get $a) (i32.const 7)))))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $a) (i32.const 131072)))))

  ;; FNV-style hash of every 8-byte word of [4096, memory.size * 64 KiB), position-sensitive.
  (func $checksum (export "checksum") (result i64) (local $a i32) (local $end i32) (local $h i64)
    (local.set $a (i32.const 4096))
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (local.set $h (i64.const 0xcbf29ce484222325))
    (loop $next
      (local.set $h (i64.mul (i64.xor (i64.rotl (local.get $h) (i64.const 5)) (i64.load (local.get $a))) (i64.const 0x100000001b3)))
      (local.set $a (i32.add (local.get $a) (i32.const 8)))
      (br_if $next (i32.lt_u (local.get $a) (local.get $end))))
    (local.get $h))

  ;; A store that reads back at once: the second access to the page hits the software TLB.
  (func (export "i64.store then i64.load") (param $a i32) (param $v i64) (result i64)
    (i64.store (local.get $a) (local.get $v))
    (i64.load (local.get $a)))

  (func (export "i32.store") (param $a i32) (param $v i32) (result i64) (i32.store (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i32.store8") (param $a i32) (param $v i32) (result i64) (i32.store8 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i32.store16") (param $a i32) (param $v i32) (result i64) (i32.store16 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store") (param $a i32) (param $v i64) (result i64) (i64.store (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store8") (param $a i32) (param $v i64) (result i64) (i64.store8 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store16") (param $a i32) (param $v i64) (result i64) (i64.store16 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store32") (param $a i32) (param $v i64) (result i64) (i64.store32 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "f32.store") (param $a i32) (param $v i32) (result i64) (f32.store (local.get $a) (f32.reinterpret_i32 (local.get $v))) (call $checksum))
  (func (export "f64.store") (param $a i32) (param $v i64) (result i64) (f64.store (local.get $a) (f64.reinterpret_i64 (local.get $v))) (call $checksum))

  (func (export "i32.store offset=3") (param $a i32) (param $v i32) (result i64) (i32.store offset=3 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i32.store8 offset=3") (param $a i32) (param $v i32) (result i64) (i32.store8 offset=3 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i32.store16 offset=3") (param $a i32) (param $v i32) (result i64) (i32.store16 offset=3 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store offset=3") (param $a i32) (param $v i64) (result i64) (i64.store offset=3 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store8 offset=3") (param $a i32) (param $v i64) (result i64) (i64.store8 offset=3 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store16 offset=3") (param $a i32) (param $v i64) (result i64) (i64.store16 offset=3 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store32 offset=3") (param $a i32) (param $v i64) (result i64) (i64.store32 offset=3 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "f32.store offset=3") (param $a i32) (param $v i32) (result i64) (f32.store offset=3 (local.get $a) (f32.reinterpret_i32 (local.get $v))) (call $checksum))
  (func (export "f64.store offset=3") (param $a i32) (param $v i64) (result i64) (f64.store offset=3 (local.get $a) (f64.reinterpret_i64 (local.get $v))) (call $checksum))

  (func (export "i32.store offset=65536") (param $a i32) (param $v i32) (result i64) (i32.store offset=65536 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i32.store8 offset=65536") (param $a i32) (param $v i32) (result i64) (i32.store8 offset=65536 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i32.store16 offset=65536") (param $a i32) (param $v i32) (result i64) (i32.store16 offset=65536 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store offset=65536") (param $a i32) (param $v i64) (result i64) (i64.store offset=65536 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store8 offset=65536") (param $a i32) (param $v i64) (result i64) (i64.store8 offset=65536 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store16 offset=65536") (param $a i32) (param $v i64) (result i64) (i64.store16 offset=65536 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store32 offset=65536") (param $a i32) (param $v i64) (result i64) (i64.store32 offset=65536 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "f32.store offset=65536") (param $a i32) (param $v i32) (result i64) (f32.store offset=65536 (local.get $a) (f32.reinterpret_i32 (local.get $v))) (call $checksum))
  (func (export "f64.store offset=65536") (param $a i32) (param $v i64) (result i64) (f64.store offset=65536 (local.get $a) (f64.reinterpret_i64 (local.get $v))) (call $checksum))

  (func (export "i32.store offset=0xFFFFFFF0") (param $a i32) (param $v i32) (result i64) (i32.store offset=0xFFFFFFF0 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i32.store8 offset=0xFFFFFFF0") (param $a i32) (param $v i32) (result i64) (i32.store8 offset=0xFFFFFFF0 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i32.store16 offset=0xFFFFFFF0") (param $a i32) (param $v i32) (result i64) (i32.store16 offset=0xFFFFFFF0 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store offset=0xFFFFFFF0") (param $a i32) (param $v i64) (result i64) (i64.store offset=0xFFFFFFF0 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store8 offset=0xFFFFFFF0") (param $a i32) (param $v i64) (result i64) (i64.store8 offset=0xFFFFFFF0 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store16 offset=0xFFFFFFF0") (param $a i32) (param $v i64) (result i64) (i64.store16 offset=0xFFFFFFF0 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "i64.store32 offset=0xFFFFFFF0") (param $a i32) (param $v i64) (result i64) (i64.store32 offset=0xFFFFFFF0 (local.get $a) (local.get $v)) (call $checksum))
  (func (export "f32.store offset=0xFFFFFFF0") (param $a i32) (param $v i32) (result i64) (f32.store offset=0xFFFFFFF0 (local.get $a) (f32.reinterpret_i32 (local.get $v))) (call $checksum))
  (func (export "f64.store offset=0xFFFFFFF0") (param $a i32) (param $v i64) (result i64) (f64.store offset=0xFFFFFFF0 (local.get $a) (f64.reinterpret_i64 (local.get $v))) (call $checksum))
)
