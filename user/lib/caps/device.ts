// A machine device, as a driver holds it: its register page (reads are loads, stores reach the
// device) and the Region it DMAs through. Its interrupt line is a separate Interrupt capability.
// Register maps are in docs/DEVICES.md.
import { OP_DEVICE_DMA, OP_DEVICE_GRANT, OP_DEVICE_INFO, OP_DEVICE_MAP, OP_DEVICE_RESET } from "../abi";
import { msgAddCap, msgAddWord, msgBegin, msgInvoke, msgWord } from "../message";
import { operation, operation1, operationWithCap } from "./operation";

/** DEVICE_INFO's answer. */
export class DeviceInfo {
  status: i32 = 0;
  line: u32 = 0;
  registers: u32 = 0;
}

export class Device {
  constructor(readonly cap: i32) {}

  info(): DeviceInfo {
    const info = new DeviceInfo();
    info.status = operation(this.cap, OP_DEVICE_INFO);
    if (info.status >= 0) {
      info.line = msgWord(0);
      info.registers = msgWord(1);
    }
    return info;
  }

  /** Maps the register page at its global address: that address (as i64: it has the top bit set), or a status. */
  map(): i64 {
    const status = operation(this.cap, OP_DEVICE_MAP);
    return status < 0 ? <i64>status : <i64>msgWord(0);
  }

  /** The device DMAs through this Region (an owner capability; it stays with the caller, and the window goes if it leaves us). */
  dma(region: i32): i32 {
    return operationWithCap(this.cap, OP_DEVICE_DMA, <u32>region);
  }

  /** No DMA window: the device touches no memory of ours any more. */
  detach(): i32 {
    return operation(this.cap, OP_DEVICE_DMA);
  }

  /**
   * Lends the device `region` (an owner capability: it may read and write it; a view: read only)
   * as grant `slot`, for a request that names it (it stays with the caller). 1 when writable, 0
   * when read-only, or a status. The loan ends when the slot is granted again or emptied
   * (`ungrant`), when we no longer hold the Region (a writable loan: its owner capability), when its
   * frames go, and at `reset`.
   */
  grant(slot: u32, region: i32): i32 {
    msgBegin(OP_DEVICE_GRANT);
    msgAddWord(slot);
    msgAddCap(<u32>region);
    const status = msgInvoke(this.cap);
    return status < 0 ? status : <i32>msgWord(1);
  }

  /** Ends grant `slot`: the device reaches nothing through it any more. */
  ungrant(slot: u32): i32 {
    return operation1(this.cap, OP_DEVICE_GRANT, slot);
  }

  reset(): i32 {
    return operation(this.cap, OP_DEVICE_RESET);
  }
}
