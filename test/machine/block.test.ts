import { describe, expect, it } from "vitest";
import { type BlockBackend, BlockError, MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { BLOCK_GRANT_SLOTS, Block, BlockDevice, BlockFlags, BlockOp, SECTOR_SIZE } from "../../src/machine/devices/block.ts";
import { Queue } from "../../src/machine/devices/queue-device.ts";
import { DEVICE_MAGIC, DeviceKind, Header, RegisterError } from "../../src/machine/devices/registers.ts";
import { RequestStatus } from "../../src/machine/devices/request-status.ts";
import { RegionDmaWindow } from "../../src/kernel/caps/dma-window.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";
import { ManualBlockBackend, MemoryDmaWindow, RecordingInterrupts, RingDriver, settle } from "./helpers.ts";

const LINE = 3;

function blockMachine<B extends BlockBackend = MemoryBlockBackend>(backend: B = new MemoryBlockBackend(64 * SECTOR_SIZE) as unknown as B, windowSize = 16384) {
  const interrupts = new RecordingInterrupts();
  const device = new BlockDevice(LINE, interrupts, backend);
  const driver = new RingDriver(device, new MemoryDmaWindow(windowSize));
  return { interrupts, device, driver, backend };
}

/** A descriptor: op, id, sector (low, high), count, buffer offset. */
const request = (op: number, id: number, sector: number, count: number, buffer: number) => [op, id, sector, 0, count, buffer];

describe("block device", () => {
  it("describes itself in its registers", () => {
    const { driver } = blockMachine();
    const r = driver.registers;
    expect([r[Header.MAGIC], r[Header.KIND], r[Block.SECTOR_SIZE], r[Block.CAPACITY], r[Block.CAPACITY + 1]]).toEqual([DEVICE_MAGIC, DeviceKind.BLOCK, 512, 64, 0]);
    expect(r[Header.DMA_SIZE]).toBe(16384);
    expect(r[Queue.MAX_ENTRIES]).toBe(256);
  });

  it("writes sectors to the backend and reads them back into the buffer", async () => {
    const { driver, backend, interrupts } = blockMachine();
    const data = driver.dataOffset;
    driver.window.bytes.fill(0xab, data, data + 2 * SECTOR_SIZE);
    expect(driver.submit(request(BlockOp.WRITE, 7, 5, 2, data))).toBe(RegisterError.NONE);
    expect(driver.registers[Queue.TAKEN]).toBe(1);
    await settle(() => driver.registers[Queue.USED_INDEX] === 1);
    expect(driver.completions()).toEqual([{ id: 7, status: RequestStatus.OK, length: 1024, extra: 0 }]);
    expect(backend.bytes.subarray(5 * SECTOR_SIZE, 7 * SECTOR_SIZE).every((b) => b === 0xab)).toBe(true);
    expect(interrupts.count(LINE)).toBe(1);

    const into = data + 4096;
    driver.submit(request(BlockOp.READ, 8, 6, 1, into));
    await settle(() => driver.registers[Queue.USED_INDEX] === 2);
    expect(driver.completions()).toEqual([{ id: 8, status: RequestStatus.OK, length: 512, extra: 0 }]);
    expect(driver.window.bytes.subarray(into, into + SECTOR_SIZE).every((b) => b === 0xab)).toBe(true);
    expect(interrupts.count(LINE)).toBe(2);
  });

  it("completes requests out of order, as the backend finishes them", async () => {
    const backend = new ManualBlockBackend(64 * SECTOR_SIZE);
    const { driver } = blockMachine(backend);
    const data = driver.dataOffset;
    driver.submit(request(BlockOp.READ, 1, 0, 1, data), request(BlockOp.WRITE, 2, 1, 1, data + 512), request(BlockOp.READ, 3, 2, 1, data + 1024));
    expect(backend.pending.map((p) => p.kind)).toEqual(["read", "write", "read"]);
    expect(driver.registers[Queue.IN_FLIGHT]).toBe(3);
    backend.finish(2);
    await settle(() => driver.registers[Queue.USED_INDEX] === 1);
    backend.finish(0, true);
    await settle(() => driver.registers[Queue.USED_INDEX] === 2);
    backend.finish(0);
    await settle(() => driver.registers[Queue.USED_INDEX] === 3);
    expect(driver.completions().map((c) => [c.id, c.status])).toEqual([
      [3, RequestStatus.OK],
      [1, RequestStatus.E_IO],
      [2, RequestStatus.OK],
    ]);
    expect(driver.registers[Queue.IN_FLIGHT]).toBe(0);
  });

  it("signals a write only once the backend has it, and a flush only once earlier writes are flushed", async () => {
    const backend = new ManualBlockBackend(64 * SECTOR_SIZE);
    const { driver } = blockMachine(backend);
    driver.window.bytes.fill(9, driver.dataOffset, driver.dataOffset + 512);
    driver.submit(request(BlockOp.WRITE, 1, 3, 1, driver.dataOffset), request(BlockOp.FLUSH, 2, 0, 0, 0));
    // The write's data was copied when it was taken: the driver may reuse its buffer.
    driver.window.bytes.fill(0, driver.dataOffset, driver.dataOffset + 512);
    await settle();
    expect(driver.registers[Queue.USED_INDEX]).toBe(0);
    expect(backend.pending.map((p) => p.kind)).toEqual(["write", "flush"]);
    backend.finish(0);
    await settle(() => driver.registers[Queue.USED_INDEX] === 1);
    expect(backend.bytes[3 * SECTOR_SIZE]).toBe(9);
    backend.finish(0);
    await settle(() => driver.registers[Queue.USED_INDEX] === 2);
    expect(driver.completions().map((c) => c.id)).toEqual([1, 2]);
  });

  it("lends a backend that takes writes at once the window's memory, and it has the bytes before the driver may reuse them", async () => {
    const backend = new MemoryBlockBackend(64 * SECTOR_SIZE);
    let lent: Uint8Array | null = null;
    const write = backend.write.bind(backend);
    backend.write = (offset, data) => {
      lent = data;
      return write(offset, data);
    };
    const { driver } = blockMachine(backend);
    driver.window.bytes.fill(7, driver.dataOffset, driver.dataOffset + 1024);
    driver.submit(request(BlockOp.WRITE, 1, 5, 2, driver.dataOffset));
    driver.window.bytes.fill(0, driver.dataOffset, driver.dataOffset + 1024); // taken: free to reuse
    await settle(() => driver.registers[Queue.USED_INDEX] === 1);
    expect(driver.completions().map((c) => [c.id, c.status])).toEqual([[1, RequestStatus.OK]]);
    expect([...backend.bytes.subarray(5 * SECTOR_SIZE, 7 * SECTOR_SIZE)].every((b) => b === 7)).toBe(true);
    // What it was handed is the window itself, not a copy.
    expect(lent!.buffer).toBe(driver.window.bytes.buffer);
  });

  it("completes bad requests with an error status and never throws", async () => {
    const { driver, backend } = blockMachine();
    const data = driver.dataOffset;
    driver.submit(
      request(BlockOp.READ, 1, 63, 2, data), // past the last sector
      request(BlockOp.WRITE, 2, 0, 1, driver.window.size - 100), // buffer runs out of the window
      request(9, 3, 0, 1, data), // no such operation
      [BlockOp.READ, 4, 0, 1, 1, data], // sector 2^32
      request(BlockOp.READ, 5, 0, 0xffffffff, data), // a count that overflows every bound
    );
    await settle(() => driver.registers[Queue.USED_INDEX] === 5);
    expect(driver.completions().map((c) => [c.id, c.status])).toEqual([
      [1, RequestStatus.E_RANGE],
      [2, RequestStatus.E_BUFFER],
      [3, RequestStatus.E_OP],
      [4, RequestStatus.E_RANGE],
      [5, RequestStatus.E_RANGE],
    ]);
    expect(backend.bytes.every((b) => b === 0)).toBe(true);
  });

  it("refuses a ring outside the window, a bad ring size and indices that run ahead", () => {
    const { device, driver } = blockMachine();
    device.write(Queue.RING_ENTRIES, 3);
    expect(driver.registers[Header.ERROR]).toBe(RegisterError.BAD_VALUE);
    device.write(Queue.USED_OFFSET, 16380);
    expect(driver.submit(request(BlockOp.FLUSH, 1, 0, 0, 0))).toBe(RegisterError.DMA_RANGE);
    driver.configure();
    device.write(Queue.NOTIFY, 100);
    expect(driver.registers[Header.ERROR]).toBe(RegisterError.BAD_INDEX);
    device.write(Queue.USED_CONSUMER, 5);
    expect(driver.registers[Header.ERROR]).toBe(RegisterError.BAD_INDEX);
    device.write(Queue.TAKEN, 5);
    expect(driver.registers[Header.ERROR]).toBe(RegisterError.READ_ONLY);
    expect(driver.registers[Queue.TAKEN]).toBe(0);
  });

  it("keeps the ring where it is while the queue runs", () => {
    const { device, driver } = blockMachine();
    driver.submit(request(BlockOp.FLUSH, 1, 0, 0, 0));
    device.write(Queue.USED_OFFSET, 4096);
    expect(driver.registers[Header.ERROR]).toBe(RegisterError.BUSY);
    device.reset();
    device.write(Queue.USED_OFFSET, 4096);
    expect(driver.registers[Header.ERROR]).toBe(RegisterError.NONE);
  });

  it("takes no more requests than the used ring has room for until the driver consumes", async () => {
    const { driver } = blockMachine();
    const flush = (id: number) => request(BlockOp.FLUSH, id, 0, 0, 0);
    driver.submit(...[1, 2, 3, 4, 5, 6, 7, 8].map(flush));
    await settle(() => driver.registers[Queue.USED_INDEX] === 8);
    // The ring's slots are free (all taken), but the used ring is full of unread completions.
    driver.submit(flush(9), flush(10));
    expect(driver.registers[Queue.TAKEN]).toBe(8);
    expect(driver.completions()).toHaveLength(8);
    expect(driver.registers[Queue.TAKEN]).toBe(10);
    await settle(() => driver.registers[Queue.USED_INDEX] === 10);
    expect(driver.completions().map((c) => c.id)).toEqual([9, 10]);
  });

  it("drops requests in flight on reset, and works again once configured", async () => {
    const backend = new ManualBlockBackend(64 * SECTOR_SIZE);
    const { device, driver, interrupts } = blockMachine(backend);
    driver.submit(request(BlockOp.READ, 1, 0, 1, driver.dataOffset));
    device.reset();
    expect(driver.registers[Queue.RING_ENTRIES]).toBe(0);
    expect(driver.registers[Block.CAPACITY]).toBe(64);
    backend.finish(0);
    await settle();
    expect(driver.registers[Queue.USED_INDEX]).toBe(0);
    expect(interrupts.count(LINE)).toBe(0);
    driver.configure();
    driver.submit(request(BlockOp.FLUSH, 2, 0, 0, 0));
    backend.finish(0);
    await settle(() => driver.registers[Queue.USED_INDEX] === 1);
    expect(driver.completions().map((c) => c.id)).toEqual([2]);
  });

  it("drops requests in flight when its window is taken away", async () => {
    const backend = new ManualBlockBackend(64 * SECTOR_SIZE);
    const { device, driver } = blockMachine(backend);
    driver.submit(request(BlockOp.READ, 1, 0, 1, driver.dataOffset));
    device.attachDma(null);
    expect(driver.registers[Header.DMA_SIZE]).toBe(0);
    backend.finish(0);
    await settle();
    expect(driver.registers[Queue.USED_INDEX]).toBe(0);
    expect(driver.submit(request(BlockOp.FLUSH, 2, 0, 0, 0))).toBe(RegisterError.NO_DMA);
  });

  it("raises its line once per batch the driver has not acknowledged", async () => {
    const { device, driver, interrupts } = blockMachine();
    driver.submit(request(BlockOp.FLUSH, 1, 0, 0, 0), request(BlockOp.FLUSH, 2, 0, 0, 0));
    await settle(() => driver.registers[Queue.USED_INDEX] === 2);
    expect(interrupts.count(LINE)).toBe(1);
    expect(driver.registers[Header.IRQ_STATUS]).toBe(1);
    driver.completions();
    expect(driver.registers[Header.IRQ_STATUS]).toBe(0);
    device.write(Header.IRQ_ENABLE, 0);
    driver.submit(request(BlockOp.FLUSH, 3, 0, 0, 0));
    await settle(() => driver.registers[Queue.USED_INDEX] === 3);
    expect(interrupts.count(LINE)).toBe(1);
    device.write(Header.IRQ_ENABLE, 1); // a pending cause raises the line when enabled
    expect(interrupts.count(LINE)).toBe(2);
  });

  it("refuses writes to a write-protected disk, and says so in FLAGS", async () => {
    const backend = new MemoryBlockBackend(64 * SECTOR_SIZE);
    const readOnly = Object.assign(backend, { readOnly: true });
    const { driver } = blockMachine(readOnly);
    expect(driver.registers[Block.FLAGS]).toBe(BlockFlags.READ_ONLY);
    backend.bytes.fill(7, 0, SECTOR_SIZE);
    driver.window.bytes.fill(0xab, driver.dataOffset, driver.dataOffset + SECTOR_SIZE);
    driver.submit(request(BlockOp.WRITE, 1, 0, 1, driver.dataOffset), request(BlockOp.READ, 2, 0, 1, driver.dataOffset + 4096), request(BlockOp.FLUSH, 3, 0, 0, 0));
    await settle(() => driver.registers[Queue.USED_INDEX] === 3);
    const byId = new Map(driver.completions().map((c) => [c.id, c.status]));
    expect([byId.get(1), byId.get(2), byId.get(3)]).toEqual([RequestStatus.E_READ_ONLY, RequestStatus.OK, RequestStatus.OK]);
    expect(backend.bytes[0]).toBe(7);
    expect(blockMachine().driver.registers[Block.FLAGS]).toBe(0);
  });

  it("reports a host that is out of space or refuses writes as such, and anything else as E_IO", async () => {
    const failures = [new BlockError("no-space", "ENOSPC"), new BlockError("read-only", "EROFS"), new BlockError("io", "EIO"), new Error("anything")];
    const statuses = [];
    for (const failure of failures) {
      const backend = new MemoryBlockBackend(64 * SECTOR_SIZE);
      backend.write = () => Promise.reject(failure);
      const { driver } = blockMachine(backend);
      driver.submit(request(BlockOp.WRITE, 1, 0, 1, driver.dataOffset));
      await settle(() => driver.registers[Queue.USED_INDEX] === 1);
      statuses.push(driver.completions()[0]!.status);
    }
    expect(statuses).toEqual([RequestStatus.E_NO_SPACE, RequestStatus.E_READ_ONLY, RequestStatus.E_IO, RequestStatus.E_IO]);
  });

  it("works in a Region its driver grants: writes from it and reads into it, a view's grant only read, a grant taken away fails its request", async () => {
    const backend = new ManualBlockBackend(64 * SECTOR_SIZE);
    const { driver, device } = blockMachine(backend);
    expect(driver.registers[Block.GRANTS]).toBe(BLOCK_GRANT_SLOTS);
    const memory = new PhysicalMemory(1 << 20);
    memory.bytes.fill(0x11, 5 * 4096, 6 * 4096);
    memory.bytes.fill(0x22, 9 * 4096, 10 * 4096);
    memory.bytes.fill(0x33, 6 * 4096, 7 * 4096); // the frame between: granted to nobody
    const grant = new RegionDmaWindow(memory, [5, 9]);
    device.attachGrant(2, grant);
    const inGrant = (op: number, id: number, sector: number, count: number, offset: number, slot = 2) => [...request(op, id, sector, count, offset), slot + 1];
    const next = async (count: number) => {
      await settle(() => driver.registers[Queue.USED_INDEX] === count);
      return driver.completions().map((c) => c.status);
    };

    // A write takes the grant's bytes (both frames, in order) when the device takes it.
    driver.submit(inGrant(BlockOp.WRITE, 1, 0, 16, 0));
    backend.finish(0);
    expect(await next(1)).toEqual([RequestStatus.OK]);
    expect(backend.bytes.subarray(0, 4096).every((b) => b === 0x11) && backend.bytes.subarray(4096, 8192).every((b) => b === 0x22)).toBe(true);

    // A read lands in the grant's second frame, and nowhere else.
    backend.bytes.fill(0x44, 8192, 8192 + 4096);
    driver.submit(inGrant(BlockOp.READ, 2, 16, 8, 4096));
    backend.finish(0);
    expect(await next(2)).toEqual([RequestStatus.OK]);
    expect(memory.bytes.subarray(9 * 4096, 10 * 4096).every((b) => b === 0x44)).toBe(true);
    expect(memory.bytes.subarray(6 * 4096, 7 * 4096).every((b) => b === 0x33)).toBe(true);

    // Taken away while the read is at the backend: the request fails, the frame is not written.
    driver.submit(inGrant(BlockOp.READ, 3, 0, 8, 0));
    grant.revoke();
    device.attachGrant(2, null);
    backend.finish(0);
    expect(await next(3)).toEqual([RequestStatus.E_BUFFER]);
    expect(memory.bytes.subarray(5 * 4096, 6 * 4096).every((b) => b === 0x11)).toBe(true);

    // A view's grant is read only; past a grant's end, an empty slot, a slot past the last: refused.
    device.attachGrant(0, new RegionDmaWindow(memory, [5], true));
    driver.submit(
      inGrant(BlockOp.READ, 4, 0, 8, 0, 0),
      inGrant(BlockOp.WRITE, 5, 0, 16, 0, 0),
      inGrant(BlockOp.WRITE, 6, 0, 8, 0, 2),
      inGrant(BlockOp.WRITE, 7, 0, 8, 0, BLOCK_GRANT_SLOTS),
    );
    await settle(() => driver.registers[Queue.USED_INDEX] === 7);
    expect(driver.completions().map((c) => [c.id, c.status])).toEqual([
      [4, RequestStatus.E_BUFFER],
      [5, RequestStatus.E_BUFFER],
      [6, RequestStatus.E_BUFFER],
      [7, RequestStatus.E_BUFFER],
    ]);
    expect(backend.pending).toEqual([]);
    expect(memory.bytes.subarray(5 * 4096, 6 * 4096).every((b) => b === 0x11)).toBe(true);

    // A reset forgets every grant.
    device.reset();
    driver.configure();
    driver.submit(inGrant(BlockOp.WRITE, 8, 0, 8, 0, 0));
    await settle(() => driver.registers[Queue.USED_INDEX] === 1);
    expect(driver.completions().map((c) => c.status)).toEqual([RequestStatus.E_BUFFER]);
  });
});
