import type { MmioDevice } from "../../machine/mmio.ts";
import type { PhysicalMemory } from "../../machine/physical-memory.ts";
import { Status } from "../errors.ts";
import { RegionDmaWindow } from "./dma-window.ts";
import { type Invocation, answer, argumentCap, argumentObject } from "./invocation.ts";
import { KernelObject } from "./kernel-object.ts";
import { ObjectKind, Op, Rights } from "./object-abi.ts";
import type { RegionObject } from "./region.ts";
import type { Process } from "../process.ts";

/** A Region a driver lent its device for a request (DEVICE_GRANT), and what ends the loan. */
interface Grant {
  readonly region: RegionObject;
  readonly window: RegionDmaWindow;
  /** The frames are going back (the Region freed, destroyed, its Memory gone). */
  readonly released: () => void;
  /** A process gave up the owner or every capability to the Region: when it is the driver and that is what the grant came through, the grant ends. */
  readonly lessHeld: (process: Process, owns: boolean, holds: boolean) => void;
}

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
  /** The driver that gave the window: once it gives up the window's owner capability, the window goes. */
  private windowDriver: Process | null = null;
  private readonly windowLessHeld = (process: Process, owns: boolean): void => {
    if (process === this.windowDriver && !owns) this.attach(null);
  };
  /** Grant slots in use (DEVICE_GRANT); they end with the window they were made beside. */
  private readonly grants = new Map<number, Grant>();

  constructor(device: MmioDevice, memory: PhysicalMemory, registerFrame: number, registerAddress: number) {
    super();
    this.device = device;
    this.memory = memory;
    this.registerFrame = registerFrame;
    this.registerAddress = registerAddress;
  }

  /**
   * `driver`'s Region becomes the device's DMA window (null: none). Every grant ends. The window
   * goes when the Region's frames go, and when the driver gives up its owner capability: the
   * Region's next owner is written by nothing it did not grant (redteam13: a driver that kept a
   * view and passed the owner on had the device go on writing into another process's Region).
   */
  attach(region: RegionObject | null, driver: Process | null = null): void {
    this.endGrants();
    this.dma?.beforeRelease.delete(this.detach);
    this.dma?.whenLessHeld.delete(this.windowLessHeld);
    this.dma = region && driver ? region : null;
    this.windowDriver = this.dma ? driver : null;
    if (this.dma) {
      this.dma.beforeRelease.add(this.detach);
      this.dma.whenLessHeld.add(this.windowLessHeld);
    }
    this.device.attachDma(this.dma ? new RegionDmaWindow(this.memory, this.dma.frameList) : null);
  }

  /**
   * Grant `slot` becomes `region`, which `driver` holds (null: the slot empties). The device may
   * write into it only when `writable`. The grant ends — its window revoked, so the device reaches
   * nothing through it even for a request already taken — when the slot is granted again or
   * emptied, when the Region's frames go back, when the driver no longer holds the Region (for a
   * writable grant: no longer owns it), and when the device's window changes or it is reset (its
   * driver died or restarted).
   */
  grant(slot: number, region: RegionObject | null, driver: Process | null, writable: boolean): void {
    this.endGrant(slot);
    if (!region || !driver) return;
    const window = new RegionDmaWindow(this.memory, region.frameList, !writable);
    const released = (): void => this.endGrant(slot);
    // A grant of the owner ends with the driver's ownership: the Region's next owner must be written
    // by nothing it did not grant itself (a driver that kept a view of its own Region and passed the
    // owner on had the device write into another process's Region, redteam13).
    const lessHeld = (process: Process, owns: boolean, holds: boolean): void => {
      if (process === driver && (!holds || (writable && !owns))) this.endGrant(slot);
    };
    region.beforeRelease.add(released);
    region.whenLessHeld.add(lessHeld);
    this.grants.set(slot, { region, window, released, lessHeld });
    this.device.attachGrant?.(slot, window);
  }

  private endGrant(slot: number): void {
    const grant = this.grants.get(slot);
    if (!grant) return;
    this.grants.delete(slot);
    grant.region.beforeRelease.delete(grant.released);
    grant.region.whenLessHeld.delete(grant.lessHeld);
    grant.window.revoke();
    this.device.attachGrant?.(slot, null);
  }

  private endGrants(): void {
    for (const slot of [...this.grants.keys()]) this.endGrant(slot);
  }

  /** DEVICE_RESET: the device forgets what is in flight, and every grant ends. */
  reset(): void {
    this.endGrants();
    this.device.reset();
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
      // A driver (init grants a Device to drivers alone) is not held to the limit on frames paging
      // cannot take back: the disk's path, the pager's, must never wait on it.
      if (!region.unshareAll(() => true)) return Status.E_QUOTA;
      device.attach(region, inv.caller);
      return Status.OK;
    }
    case Op.DEVICE_GRANT: {
      if (!inv.cap.has(Rights.DEVICE_DMA)) return Status.E_MISSING_RIGHT;
      const slot = inv.message.words[0];
      if (slot === undefined || slot >= (device.device.grantSlots ?? 0)) return Status.E_INVALID_ARGUMENT;
      if (inv.message.caps.length === 0) {
        device.grant(slot, null, null, false);
        return Status.OK;
      }
      const region = argumentObject<RegionObject>(inv, 0, ObjectKind.REGION, 0);
      if (typeof region === "number") return region;
      // Only what the driver itself maps: its owner capability, or a view (a filler is neither).
      const lent = argumentCap(inv, 0)!;
      if (!lent.has(Rights.REGION_OWNER) && !lent.has(Rights.REGION_READ)) return Status.E_MISSING_RIGHT;
      const access = region.grantableBy(inv.caller, lent.has(Rights.REGION_OWNER), () => true);
      if (access === null) return Status.E_PEER_DEAD;
      if (access === false) return Status.E_QUOTA;
      device.grant(slot, region, inv.caller, access === "write");
      return answer(inv, [region.pages, access === "write" ? 1 : 0]);
    }
    case Op.DEVICE_RESET:
      if (!inv.cap.has(Rights.DEVICE_RESET)) return Status.E_MISSING_RIGHT;
      device.reset();
      return Status.OK;
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}
