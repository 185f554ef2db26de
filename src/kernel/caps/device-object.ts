import type { MmioDevice } from "../../machine/mmio.ts";
import type { PhysicalMemory } from "../../machine/physical-memory.ts";
import { Status } from "../errors.ts";
import { RegionDmaWindow } from "./dma-window.ts";
import { type Invocation, answer, argumentObject } from "./invocation.ts";
import { KernelObject } from "./kernel-object.ts";
import { ObjectKind, Op, Rights } from "./object-abi.ts";
import type { RegionObject } from "./region.ts";

/**
 * A machine device as a driver holds it: its register page, mapped at one global address (reads
 * are plain loads; stores trap to the device), and the DMA window it works through, which its
 * driver gives it as a Region. Its interrupt line is a separate Interrupt object.
 *
 * Invariant: the device's DMA window names the frames of `dma` and nothing else, and is taken
 * away before those frames can go back to the allocator.
 */
export class DeviceObject extends KernelObject {
  readonly kind = ObjectKind.DEVICE;
  readonly device: MmioDevice;
  readonly registerFrame: number;
  readonly registerAddress: number;
  private dma: RegionObject | null = null;
  private readonly memory: PhysicalMemory;
  private readonly detach = (): void => this.attach(null);

  constructor(device: MmioDevice, memory: PhysicalMemory, registerFrame: number, registerAddress: number) {
    super();
    this.device = device;
    this.memory = memory;
    this.registerFrame = registerFrame;
    this.registerAddress = registerAddress;
  }

  /** The driver's Region becomes the device's DMA window (null: none). */
  attach(region: RegionObject | null): void {
    this.dma?.beforeRelease.delete(this.detach);
    this.dma = region;
    if (region) region.beforeRelease.add(this.detach);
    this.device.attachDma(region ? new RegionDmaWindow(this.memory, region.frameList) : null);
  }

  override ownsFrame(frame: number, address: number): boolean {
    return frame === this.registerFrame && address === this.registerAddress;
  }

  /** The machine's devices live as long as the machine: the last capability going changes nothing. */
  protected override persists(): boolean {
    return true;
  }

  protected teardown(): void {
    this.attach(null);
  }
}

/** DEVICE_* operations. */
export function invokeDevice(inv: Invocation, device: DeviceObject): number {
  switch (inv.message.label) {
    case Op.DEVICE_INFO:
      return answer(inv, [device.device.line, device.registerAddress]);
    case Op.DEVICE_MAP:
      if (!inv.cap.has(Rights.DEVICE_MAP)) return Status.E_MISSING_RIGHT;
      if (!inv.caller.space.mapDevice(device.registerAddress, device.registerFrame, device.device, device)) return Status.E_QUOTA;
      return answer(inv, [device.registerAddress]);
    case Op.DEVICE_DMA: {
      if (!inv.cap.has(Rights.DEVICE_DMA)) return Status.E_MISSING_RIGHT;
      if (inv.message.caps.length === 0) {
        device.attach(null);
        return Status.OK;
      }
      const region = argumentObject<RegionObject>(inv, 0, ObjectKind.REGION, Rights.REGION_OWNER);
      if (typeof region === "number") return region;
      if (region.freed) return Status.E_PEER_DEAD;
      // A device writes frames directly: none may still be shared copy-on-write.
      if (!region.unshareAll()) return Status.E_QUOTA;
      device.attach(region);
      return Status.OK;
    }
    case Op.DEVICE_RESET:
      if (!inv.cap.has(Rights.DEVICE_RESET)) return Status.E_MISSING_RIGHT;
      device.device.reset();
      return Status.OK;
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}
