// Why a contract refused a message (docs/ABI.md "Contract channels"): an invoke that answers
// E_CONTRACT leaves its reason in the kernel, which PROCESS_CONTRACT_REFUSAL reads back.
import { OP_PROCESS_CONTRACT_REFUSAL } from "./abi";
import { msgBegin, msgInvoke, msgWord } from "./message";

const SELF: i32 = 1;

/**
 * The text of the last refusal of `process`'s messages (or of a contract table it gave), e.g.
 * "contract Log, state Ready: does not allow ? label 3 (allowed: Write?, Read?)"; empty when
 * nothing was refused. Overwrites the message buffer.
 */
export function contractRefusal(process: i32 = SELF): string {
  msgBegin(OP_PROCESS_CONTRACT_REFUSAL);
  if (msgInvoke(process) < 0) return "";
  const length = <i32>msgWord(3);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = <u8>(msgWord(4 + (i >> 2)) >> (8 * (i & 3)));
  return String.UTF8.decode(bytes.buffer);
}
