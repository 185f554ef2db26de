// The `dogma` import module, one declaration per call of docs/ABI.md, with its exact wasm
// signature: every parameter and result is i32 unless the table says i64. Pointers are passed as
// i32 on purpose, so that this file reads like the table it is checked against.

@external("dogma", "invoke")
export declare function invoke(cap: i32, msg_ptr: i32, msg_len: i32): i32;

@external("dogma", "futex_wait")
export declare function futex_wait(addr: i32, expected: i32, ns: i64): i32;

@external("dogma", "futex_wake")
export declare function futex_wake(addr: i32, count: i32): i32;

// `yield` is a reserved word in AssemblyScript, hence the trailing underscore.
@external("dogma", "yield")
export declare function yield_(): void;

@external("dogma", "yield_to")
export declare function yield_to(pid: i32): i32;

@external("dogma", "sleep")
export declare function sleep(ns: i64): void;

@external("dogma", "exit")
export declare function exit(code: i32): void;

@external("dogma", "getpid")
export declare function getpid(): i32;

@external("dogma", "getppid")
export declare function getppid(): i32;

@external("dogma", "clock")
export declare function clock(id: i32): i64;

@external("dogma", "random")
export declare function random(ptr: i32, len: i32): i32;

@external("dogma", "arg_count")
export declare function arg_count(): i32;

@external("dogma", "arg_get")
export declare function arg_get(index: i32, buf: i32, buf_len: i32): i32;

@external("dogma", "console_write")
export declare function console_write(stream: i32, ptr: i32, len: i32): i32;

@external("dogma", "console_read")
export declare function console_read(ptr: i32, len: i32): i32;

@external("dogma", "image_base")
export declare function image_base(): i32;

@external("dogma", "image_size")
export declare function image_size(): i32;
