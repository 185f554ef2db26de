;; Bulk memory: memory.copy, memory.fill, memory.init and data.drop. Each export does one
;; operation (or a short sequence) and returns a checksum of the whole memory, so the result
;; shows exactly which bytes changed; out-of-bounds operations must trap.
(module
  (memory 2 4)
  (data $active (i32.const 8180) "\a0\a1\a2\a3\a4\a5\a6\a7\a8\a9\aa\ab\ac\ad\ae\af\b0\b1\b2\b3\b4\b5\b6\b7")
  (data $passive "\01\23\45\67\89\ab\cd\ef\fe\dc\ba\98\76\54\32\10\0f\1e\2d\3c")  ;; 20 bytes
  (data $empty "")
  (start $seed)

  ;; mem[a] ^= pattern(a) over [4096, 131072): copies and fills of the wrong bytes show.
  (func $seed (local $a i32)
    (local.set $a (i32.const 4096))
    (loop $next
      (i32.store8 (local.get $a)
        (i32.xor (i32.load8_u (local.get $a))
                 (i32.add (i32.mul (local.get $a) (i32.const 157)) (i32.shr_u (local.get $a) (i32.const 7)))))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $a) (i32.const 131072)))))

  (func $checksum (result i64) (local $a i32) (local $end i32) (local $h i64)
    (local.set $a (i32.const 4096))
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (local.set $h (i64.const 0xcbf29ce484222325))
    (loop $next
      (local.set $h (i64.mul (i64.xor (i64.rotl (local.get $h) (i64.const 5)) (i64.load (local.get $a))) (i64.const 0x100000001b3)))
      (local.set $a (i32.add (local.get $a) (i32.const 8)))
      (br_if $next (i32.lt_u (local.get $a) (local.get $end))))
    (local.get $h))

  (func (export "copy") (param $dest i32) (param $src i32) (param $n i32) (result i64)
    (memory.copy (local.get $dest) (local.get $src) (local.get $n))
    (call $checksum))

  (func (export "fill") (param $dest i32) (param $value i32) (param $n i32) (result i64)
    (memory.fill (local.get $dest) (local.get $value) (local.get $n))
    (call $checksum))

  (func (export "init") (param $dest i32) (param $src i32) (param $n i32) (result i64)
    (memory.init $passive (local.get $dest) (local.get $src) (local.get $n))
    (call $checksum))

  ;; Once dropped, a segment has length 0: only memory.init of 0 bytes at offset 0 is allowed.
  (func (export "drop then init") (param $dest i32) (param $src i32) (param $n i32) (result i64)
    (data.drop $passive)
    (memory.init $passive (local.get $dest) (local.get $src) (local.get $n))
    (call $checksum))

  ;; Init twice (segment still live), then drop twice (dropping twice is allowed).
  (func (export "init, init, drop, drop") (param $dest i32) (result i64)
    (memory.init $passive (local.get $dest) (i32.const 0) (i32.const 20))
    (memory.init $passive (i32.add (local.get $dest) (i32.const 30)) (i32.const 4) (i32.const 9))
    (data.drop $passive)
    (data.drop $passive)
    (call $checksum))

  ;; An active segment is dropped once it has been copied in at instantiation.
  (func (export "init active") (param $dest i32) (param $src i32) (param $n i32) (result i64)
    (memory.init $active (local.get $dest) (local.get $src) (local.get $n))
    (call $checksum))

  (func (export "init empty") (param $dest i32) (param $src i32) (param $n i32) (result i64)
    (memory.init $empty (local.get $dest) (local.get $src) (local.get $n))
    (call $checksum))

  ;; Operands that are themselves loads and stores.
  (func (export "copy with loaded operands") (param $a i32) (result i64)
    (i32.store (local.get $a) (i32.const 5000))
    (i32.store offset=4 (local.get $a) (i32.const 9000))
    (memory.copy (i32.load (local.get $a)) (i32.load offset=4 (local.get $a)) (i32.load16_u offset=8 (local.get $a)))
    (call $checksum))

  ;; Growing makes room: a fill into the new page works and the checksum covers it.
  (func (export "grow then fill") (param $dest i32) (param $n i32) (result i64)
    (drop (memory.grow (i32.const 1)))
    (memory.fill (local.get $dest) (i32.const 0x5a) (local.get $n))
    (call $checksum))
)
