/**
 * Which transitions of the system's contracts the service tests' clients exercise. The kernel
 * counts every message that passes each contracted Receiver (Contract.taken); this boots the log,
 * the timer, the block driver and the pipe service with the check programs their own tests run
 * (log-test-client, log-contract-check, timer-test-client, block-check, pipe-check), then lists
 * each transition no message took. The list is what those tests leave out, and why is written
 * beside it: a check that stops exercising a transition, or a contract that gains one, fails here.
 */
import { describe, expect, it } from "vitest";
import { Direction } from "../../src/kernel/caps/contract.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { patience } from "../helpers/patience.ts";
import { bootBlockMachine } from "../drivers/block-machine.ts";

const CHECKS = ["writer", "lcheck", "tcheck", "pcheck", "bcheck"];

/** Transitions the checks never take, each with the reason. */
const NOT_EXERCISED: Record<string, string> = {
  "Log.Reading.Busy!": "never answered but by a broken kernel: the log keeps a place for every endpoint its queue allows",
  "Pipe.Creating.QueueFull!": "a mint the pipe service's queue has no room for",
  "Pipe.Writing.QueueFull!": "a second writer waiting on one pipe",
  "Pipe.Reading.QueueFull!": "a second reader waiting on one pipe",
  "Pipe.Informing.InvalidArgument!": "never answered: Info is good on either end",
  "Pipe.Closing.InvalidArgument!": "never answered: Close is good on either end",
  "BlockDevice.Reading.Io!": "a host failure: test/drivers/block.test.ts's ControlledBackend, not block-check",
  "BlockDevice.Reading.Buffer!": "a driver bug the device would report",
  "BlockDevice.Reading.Op!": "a driver bug the device would report",
  "BlockDevice.Reading.ReadOnly!": "never answered to a read",
  "BlockDevice.Reading.NoSpace!": "never answered to a read",
  "BlockDevice.Writing.WrongType!": "a Write with a capability that is no Region",
  "BlockDevice.Writing.PeerDead!": "a Write with a view of a Region already gone",
  "BlockDevice.Writing.Io!": "a host failure",
  "BlockDevice.Writing.Buffer!": "a driver bug the device would report",
  "BlockDevice.Writing.Op!": "a driver bug the device would report",
  "BlockDevice.Writing.ReadOnly!": "a disk booted --read-only (test/hosts)",
  "BlockDevice.Writing.NoSpace!": "a host without room for the image (test/hosts)",
  "BlockDevice.Flushing.Io!": "a host failure",
  "BlockDevice.Flushing.Range!": "never answered to a flush",
  "BlockDevice.Flushing.Buffer!": "never answered to a flush",
  "BlockDevice.Flushing.Op!": "a driver bug the device would report",
  "BlockDevice.Flushing.ReadOnly!": "a disk booted --read-only",
  "BlockDevice.Flushing.NoSpace!": "a host without room for the image",
};

describe("the system's contracts under their services' tests", () => {
  it("takes every transition but those listed, each for a reason", async () => {
    const m = await bootBlockMachine(
      `service registry registry
service log      log                 memory=256 bootinfo log-channel
driver  timer    timer               device=timer interrupt=timer memory=64
driver  block    block               device=block interrupt=block memory=512
service pipe     pipe                memory=64
service writer   log-test-client
service lcheck   log-contract-check
service tcheck   timer-test-client
service pcheck   pipe-check          memory=64
service bcheck   block-check         memory=1024
`,
      ["registry", "log", "timer", "block", "pipe", "log-test-client", "log-contract-check", "timer-test-client", "pipe-check", "block-check"],
      new MemoryBlockBackend(64 << 20),
      { verbose: "1" }, // init's lines on the console, where the test waits for them
    );
    for (const name of CHECKS) {
      const pid = await m.pidOf(name);
      await m.line(`init: ${name} (pid ${pid}) exited with code 0; not restarting`);
    }
    const contracts = new Map<string, Receiver>();
    for (const process of m.kernel.processes.values()) {
      if (!process.alive) continue;
      for (const [, cap] of process.caps.entries()) {
        if (cap.object instanceof Receiver && cap.object.contract !== null) contracts.set(cap.object.contract.name, cap.object);
      }
    }
    // Registry's transitions are counted under registry-check (test/boot/init.test.ts), which fills
    // the registry's table: it cannot share a boot with services that register.
    contracts.delete("Registry");
    expect([...contracts.keys()].sort()).toEqual(["BlockDevice", "Log", "Pipe", "Timer"]);
    const missed: string[] = [];
    for (const receiver of contracts.values()) {
      const contract = receiver.contract!;
      contract.states.forEach((messages, state) => {
        for (const message of messages) {
          if (contract.taken[message.index] === 0) missed.push(`${contract.name}.${contract.stateNames[state]}.${message.name}${message.direction === Direction.TO_SERVER ? "?" : "!"}`);
        }
      });
    }
    expect(missed.sort()).toEqual(Object.keys(NOT_EXERCISED).sort());
    await m.halt();
  }, patience(60_000));
});
