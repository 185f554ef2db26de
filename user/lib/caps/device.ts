// A machine device, as a driver holds it: its register page (reads are loads, stores reach the
// device) and the Region it DMAs through. Its interrupt line is a separate Interrupt capability.
// Register maps are in docs/DEVICES.md.
import { OP_DEVICE_DMA, OP_DEVICE_INFO, OP_DEVICE_MAP, OP_DEVICE_RESET } from "../abi";
import { msgWord } from "../message";
import { operation, operationWithCap } from "./operation";

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

  /** The device DMAs through this Region (an owner capability; it stays with the caller). */
  dma(region: i32): i32 {
    return operationWithCap(this.cap, OP_DEVICE_DMA, <u32>region);
  }

  /** No DMA window: the device touches no memory of ours any more. */
  detach(): i32 {
    return operation(this.cap, OP_DEVICE_DMA);
  }

  reset(): i32 {
    return operation(this.cap, OP_DEVICE_RESET);
  }
}
