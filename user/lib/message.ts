// `invoke` with the message laid out as docs/ABI.md "Messages" says.
import { invoke as sysInvoke } from "./sys";
import { E_BAD_MESSAGE } from "./errors";

export const MAX_DATA_WORDS: i32 = 64;
export const MAX_CAPS: i32 = 4;

// One message at a time is ever in flight per process (invoke blocks), so one buffer will do.
const msg: usize = memory.data(4 * (3 + MAX_DATA_WORDS + MAX_CAPS));

/** Sends `label` with data `words` and capability indices `caps` through `cap`; a status. */
export function invoke(cap: i32, label: u32, words: u32[], caps: u32[] = []): i32 {
  const n = words.length;
  const c = caps.length;
  // Refused here rather than sent, since it would not fit the buffer.
  if (n > MAX_DATA_WORDS || c > MAX_CAPS) return E_BAD_MESSAGE;
  store<u32>(msg, label);
  store<u32>(msg, <u32>n, 4);
  store<u32>(msg, <u32>c, 8);
  for (let i = 0; i < n; i++) store<u32>(msg + 4 * (3 + <usize>i), unchecked(words[i]));
  for (let i = 0; i < c; i++) store<u32>(msg + 4 * (3 + <usize>(n + i)), unchecked(caps[i]));
  return sysInvoke(cap, <i32>msg, 4 * (3 + n + c));
}
