;; A WASI preview1 program that uses files through its preopened working directory (fd 3): it
;; makes wasi.txt, writes a line to it, closes it, opens it again, reads the line back and prints
;; it, seeks to the end to learn the size, makes a directory, lists the directory (one name a
;; line, after "listing:"), removes the file and exits 0. The first call that fails ends it with
;; the step's number as the exit code.
(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 2)
  (data (i32.const 4096) "wasi.txt")
  (data (i32.const 4112) "written by wasi\n")
  (data (i32.const 4144) "wasi-dir")
  (data (i32.const 4160) "size 16\n")
  (data (i32.const 4176) "listing:\n")
  ;; 8192: an iovec; 8200: a count; 8208: an fd; 8216: a seek result; 12288: a buffer.
  (func $check (param $errno i32) (param $step i32)
    (if (local.get $errno) (then (call $exit (local.get $step)))))
  ;; Writes `length` bytes at `at` to fd 1.
  (func $say (param $at i32) (param $length i32)
    (i32.store (i32.const 8192) (local.get $at))
    (i32.store (i32.const 8196) (local.get $length))
    (call $check (call $fd_write (i32.const 1) (i32.const 8192) (i32.const 1) (i32.const 8200)) (i32.const 20)))
  (func (export "_start")
    (local $fd i32)
    (local $at i32)
    (local $end i32)
    ;; 1: create and truncate, for writing (rights: fd_write = 1 << 6).
    (call $check (call $path_open (i32.const 3) (i32.const 0) (i32.const 4096) (i32.const 8) (i32.const 9)
      (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 8208)) (i32.const 1))
    (local.set $fd (i32.load (i32.const 8208)))
    (i32.store (i32.const 8192) (i32.const 4112))
    (i32.store (i32.const 8196) (i32.const 16))
    (call $check (call $fd_write (local.get $fd) (i32.const 8192) (i32.const 1) (i32.const 8200)) (i32.const 2))
    (call $check (call $fd_close (local.get $fd)) (i32.const 3))
    ;; 4: open it again for reading and seeking (fd_read = 1 << 1, fd_seek = 1 << 2) and read it back.
    (call $check (call $path_open (i32.const 3) (i32.const 0) (i32.const 4096) (i32.const 8) (i32.const 0)
      (i64.const 6) (i64.const 0) (i32.const 0) (i32.const 8208)) (i32.const 4))
    (local.set $fd (i32.load (i32.const 8208)))
    (i32.store (i32.const 8192) (i32.const 12288))
    (i32.store (i32.const 8196) (i32.const 4096))
    (call $check (call $fd_read (local.get $fd) (i32.const 8192) (i32.const 1) (i32.const 8200)) (i32.const 5))
    (i32.store (i32.const 8196) (i32.load (i32.const 8200)))
    (call $check (call $fd_write (i32.const 1) (i32.const 8192) (i32.const 1) (i32.const 8200)) (i32.const 6))
    ;; 7: seek to the end: the offset is the size.
    (call $check (call $fd_seek (local.get $fd) (i64.const 0) (i32.const 2) (i32.const 8216)) (i32.const 7))
    (if (i64.ne (i64.load (i32.const 8216)) (i64.const 16)) (then (call $exit (i32.const 8))))
    (i32.store (i32.const 8192) (i32.const 4160))
    (i32.store (i32.const 8196) (i32.const 8))
    (call $check (call $fd_write (i32.const 1) (i32.const 8192) (i32.const 1) (i32.const 8200)) (i32.const 9))
    (call $check (call $fd_close (local.get $fd)) (i32.const 10))
    (call $check (call $mkdir (i32.const 3) (i32.const 4144) (i32.const 8)) (i32.const 11))
    ;; 14: list the directory: 24-byte dirents (d_namlen at 16), each followed by its name.
    (call $check (call $readdir (i32.const 3) (i32.const 16384) (i32.const 4096) (i64.const 0) (i32.const 8200)) (i32.const 14))
    (local.set $at (i32.const 16384))
    (local.set $end (i32.add (i32.const 16384) (i32.load (i32.const 8200))))
    (call $say (i32.const 4176) (i32.const 9))
    (block $listed
      (loop $entry
        (br_if $listed (i32.ge_u (i32.add (local.get $at) (i32.const 24)) (local.get $end)))
        (call $say (i32.add (local.get $at) (i32.const 24)) (i32.load offset=16 (local.get $at)))
        (call $say (i32.const 4127) (i32.const 1)) ;; the newline at the end of "written by wasi\n"
        (local.set $at (i32.add (local.get $at) (i32.add (i32.const 24) (i32.load offset=16 (local.get $at)))))
        (br $entry)))
    (call $check (call $unlink (i32.const 3) (i32.const 4096) (i32.const 8)) (i32.const 12))
    ;; 13: the file is gone: opening it again must fail.
    (if (i32.eqz (call $path_open (i32.const 3) (i32.const 0) (i32.const 4096) (i32.const 8) (i32.const 0)
      (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 8208))) (then (call $exit (i32.const 13))))
    (call $exit (i32.const 0))))
