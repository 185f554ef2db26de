/**
 * A Region is remapped in a process only when the access that process's capabilities give it
 * changes: a view that goes out with a call and comes back with its reply, its owner staying,
 * leaves the sender's mapping alone, and a receiver that keeps a view of its own keeps the range
 * mapped across calls (the block driver's and the file system's kept views).
 */
import { describe, expect, it, vi } from "vitest";
import { Capability } from "../../src/kernel/caps/capability.ts";
import { Rights } from "../../src/kernel/caps/object-abi.ts";
import type { ObjectServices } from "../../src/kernel/caps/object-services.ts";
import { RegionObject } from "../../src/kernel/caps/region.ts";
import type { Process } from "../../src/kernel/process.ts";
import { Status } from "../../src/kernel/errors.ts";

const PAGES = 4;

/** A process whose address space only counts what is mapped and unmapped. */
function fakeProcess() {
  const space = { mapFrame: vi.fn(() => true), unmap: vi.fn() };
  return { process: { alive: true, space } as unknown as Process, space };
}

function region(): RegionObject {
  const services = { zeroFrame: 0 } as unknown as ObjectServices;
  return new RegionObject(services, 0x8000_0000, [10, 11, 12, 13], 0);
}

describe("region moves", () => {
  it("maps the receiver of a view once while it keeps a copy, and never remaps the owner that sent it", () => {
    const r = region();
    const owner = fakeProcess();
    const driver = fakeProcess();
    const ownerCap = new Capability(r, Rights.REGION_OWNER | Rights.REGION_READ);
    r.installedIn(owner.process, ownerCap);
    expect(owner.space.mapFrame).toHaveBeenCalledTimes(PAGES);
    expect(owner.space.mapFrame.mock.calls.every((call) => (call as unknown[])[3] === true)).toBe(true); // writable

    const view = new Capability(r, Rights.REGION_READ);
    const kept = new Capability(r, Rights.REGION_READ);
    for (let call = 0; call < 3; call++) {
      // The view goes to the driver with a call (it was the owner process's) and comes back with the reply.
      r.installedIn(owner.process, view);
      r.removedFrom(owner.process, view);
      r.installedIn(driver.process, view);
      if (call === 0) r.installedIn(driver.process, kept); // the driver keeps a copy at its first call
      r.removedFrom(driver.process, view);
      r.installedIn(owner.process, view);
      r.removedFrom(owner.process, view);
    }
    expect(owner.space.mapFrame).toHaveBeenCalledTimes(PAGES); // only the first mapping
    expect(owner.space.unmap).not.toHaveBeenCalled();
    expect(driver.space.mapFrame).toHaveBeenCalledTimes(PAGES); // read-only, once
    expect(driver.space.mapFrame.mock.calls.every((call) => (call as unknown[])[3] === false)).toBe(true);
    expect(driver.space.unmap).not.toHaveBeenCalled();

    r.removedFrom(driver.process, kept); // the kept copy goes: unmapped there
    expect(driver.space.unmap).toHaveBeenCalledTimes(PAGES);
  });

  it("remaps when the access changes: the owner moving away, and a page table that could not be had", () => {
    const r = region();
    const a = fakeProcess();
    const b = fakeProcess();
    const ownerCap = new Capability(r, Rights.REGION_OWNER | Rights.REGION_READ);
    const view = new Capability(r, Rights.REGION_READ);
    r.installedIn(a.process, ownerCap);
    r.installedIn(a.process, view);
    expect(a.space.mapFrame).toHaveBeenCalledTimes(PAGES); // the view changed nothing
    r.removedFrom(a.process, ownerCap); // a keeps only its view: read-only now
    expect(a.space.mapFrame).toHaveBeenCalledTimes(2 * PAGES);
    expect(a.space.mapFrame.mock.calls.slice(PAGES).every((call) => (call as unknown[])[3] === false)).toBe(true);
    b.space.mapFrame.mockReturnValueOnce(false); // one page table could not be had
    r.installedIn(b.process, ownerCap);
    expect(b.space.mapFrame).toHaveBeenCalledTimes(PAGES);
    const bView = new Capability(r, Rights.REGION_READ);
    r.installedIn(b.process, bView); // same access, but the range is not whole there: mapped again
    expect(b.space.mapFrame).toHaveBeenCalledTimes(2 * PAGES);
    r.installedIn(b.process, new Capability(r, Rights.REGION_READ)); // whole now: nothing
    expect(b.space.mapFrame).toHaveBeenCalledTimes(2 * PAGES);
  });

  it("answers REGION_INFO's check only for a range mapped in full in the caller, mapping again what a page table was missing for", () => {
    const r = region();
    const owner = fakeProcess();
    const server = fakeProcess();
    r.installedIn(owner.process, new Capability(r, Rights.REGION_OWNER | Rights.REGION_READ));
    expect(r.mappedIn(owner.process)).toBe(Status.OK);
    // A filler narrowed to REGION_FILL, or a copy with no rights, maps nothing in its holder.
    r.installedIn(server.process, new Capability(r, Rights.REGION_FILL));
    r.installedIn(server.process, new Capability(r, 0));
    expect(server.space.mapFrame).not.toHaveBeenCalled();
    expect(r.mappedIn(server.process)).toBe(Status.E_MISSING_RIGHT);
    // A view whose page table could not be had: E_QUOTA while it still cannot, mapped at the check once it can.
    server.space.mapFrame.mockReturnValueOnce(false);
    r.installedIn(server.process, new Capability(r, Rights.REGION_READ));
    server.space.mapFrame.mockReturnValue(false);
    expect(r.mappedIn(server.process)).toBe(Status.E_QUOTA);
    server.space.mapFrame.mockReturnValue(true);
    const before = server.space.mapFrame.mock.calls.length;
    expect(r.mappedIn(server.process)).toBe(Status.OK);
    expect(server.space.mapFrame.mock.calls.length - before).toBe(PAGES);
    expect(r.mappedIn(server.process)).toBe(Status.OK); // whole: nothing mapped again
    expect(server.space.mapFrame.mock.calls.length - before).toBe(PAGES);
  });
});
