;; A WASI preview1 program, written by hand so that it is the personality alone that makes it run:
;; it says hello on fd 2, then copies fd 0 to fd 1 until the end of input, and exits 0 (a write or
;; read that fails exits 1). Under the shell its fds are the standard streams (IPC with the
;; console, a pipe or a file); under `dogma run` the boot console.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 2)
  (data (i32.const 4096) "wasi-cat: copying\n")
  ;; 8192: an iovec (pointer, length); 8200: the count an fd call answers; 12288: 4 KiB of buffer.
  (func (export "_start")
    (local $n i32)
    (i32.store (i32.const 8192) (i32.const 4096))
    (i32.store (i32.const 8196) (i32.const 18))
    (if (call $fd_write (i32.const 2) (i32.const 8192) (i32.const 1) (i32.const 8200)) (then (call $exit (i32.const 1))))
    (block $done
      (loop $copy
        (i32.store (i32.const 8192) (i32.const 12288))
        (i32.store (i32.const 8196) (i32.const 4096))
        (if (call $fd_read (i32.const 0) (i32.const 8192) (i32.const 1) (i32.const 8200)) (then (call $exit (i32.const 1))))
        (local.set $n (i32.load (i32.const 8200)))
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store (i32.const 8196) (local.get $n))
        (if (call $fd_write (i32.const 1) (i32.const 8192) (i32.const 1) (i32.const 8200)) (then (call $exit (i32.const 1))))
        (br $copy)))
    (call $exit (i32.const 0))))
