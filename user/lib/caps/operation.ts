// What the typed wrappers share: a kernel operation with zero, one or two words, or one
// capability argument, built in the message buffer without allocating.
import { msgBegin, msgAddWord, msgAddCap, msgAddTimeout, msgInvoke, msgCap } from "../message";
import { FOREVER } from "../abi";

export function operation(cap: i32, label: u32): i32 {
  msgBegin(label);
  return msgInvoke(cap);
}

export function operation1(cap: i32, label: u32, a: u32): i32 {
  msgBegin(label);
  msgAddWord(a);
  return msgInvoke(cap);
}

export function operation2(cap: i32, label: u32, a: u32, b: u32): i32 {
  msgBegin(label);
  msgAddWord(a);
  msgAddWord(b);
  return msgInvoke(cap);
}

export function operation3(cap: i32, label: u32, a: u32, b: u32, c: u32): i32 {
  msgBegin(label);
  msgAddWord(a);
  msgAddWord(b);
  msgAddWord(c);
  return msgInvoke(cap);
}

export function operation4(cap: i32, label: u32, a: u32, b: u32, c: u32, d: u32): i32 {
  msgBegin(label);
  msgAddWord(a);
  msgAddWord(b);
  msgAddWord(c);
  msgAddWord(d);
  return msgInvoke(cap);
}

/** An operation whose argument is a capability (CAP_MOVE in `arg` moves it). */
export function operationWithCap(cap: i32, label: u32, arg: u32): i32 {
  msgBegin(label);
  msgAddCap(arg);
  return msgInvoke(cap);
}

/** An operation that waits: FOREVER is sent as no words, which the ABI reads the same. */
export function operationWithTimeout(cap: i32, label: u32, timeoutNs: u64): i32 {
  msgBegin(label);
  if (timeoutNs != FOREVER) msgAddTimeout(timeoutNs);
  return msgInvoke(cap);
}

/** The capability an answer carries (now in this process's table), or the failed status. */
export function answeredCap(status: i32): i32 {
  return status < 0 ? status : msgCap(0);
}
