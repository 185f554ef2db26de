// Operations every capability answers, whatever it names: what it is, a copy, dropping it.
import { OP_CAP_INFO, OP_CAP_COPY, OP_CAP_DROP, ALL_RIGHTS } from "../abi";
import { msgWord } from "../message";
import { operation, operation1, answeredCap } from "./operation";

/** CAP_INFO's answer; `status` is negative (and the rest 0) when the capability is not there. */
export class CapInfo {
  status: i32 = 0;
  kind: u32 = 0;
  rights: u32 = 0;
}

export function capInfo(cap: i32): CapInfo {
  const info = new CapInfo();
  info.status = operation(cap, OP_CAP_INFO);
  if (info.status >= 0) {
    info.kind = msgWord(0);
    info.rights = msgWord(1);
  }
  return info;
}

/** The kind (KIND_*) of what `cap` names, or a negative status; allocates nothing. */
export function capKind(cap: i32): i32 {
  const status = operation(cap, OP_CAP_INFO);
  return status < 0 ? status : <i32>msgWord(0);
}

/** A new capability to the same object with `rights & mask`: its slot, or a status (a Region owner cannot be copied). */
export function capCopy(cap: i32, mask: u32 = ALL_RIGHTS): i32 {
  return answeredCap(operation1(cap, OP_CAP_COPY, mask));
}

/** Empties the slot; the object dies with its last capability (a Process lives on until it ends). */
export function capDrop(cap: i32): i32 {
  return operation(cap, OP_CAP_DROP);
}
