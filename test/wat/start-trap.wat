;; A start function that traps (a load past the end of memory): the module never gets to run an
;; export. Natively instantiation throws; under Dogma the process faults before its entry.
(module
  (memory 1 1)
  (global $ran (mut i32) (i32.const 0))
  (start $start)
  (func $start
    (global.set $ran (i32.const 1))
    (drop (i32.load (i32.const 65534))))
  (func (export "ran") (result i32) (global.get $ran))
)
