import { describe, expect, it } from "vitest";
import { MemoryObject } from "../../src/kernel/caps/memory-object.ts";
import { Rights } from "../../src/kernel/caps/object-abi.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import { Status } from "../../src/kernel/errors.ts";
import { testMachine } from "../helpers/test-host.ts";
import { echoClient, echoServer, receiveOnce } from "./wat-programs.ts";

function receiverIn(memory: MemoryObject, capacity = 16): Receiver {
  const receiver = new Receiver(capacity);
  expect(memory.adopt(receiver, 1)).toBe(true);
  return receiver;
}

describe("call and reply between two processes", () => {
  it("echoes a thousand calls through reply-and-receive", async () => {
    const t = testMachine();
    const receiver = receiverIn(t.kernel.rootMemory);
    const server = t.kernel.spawn(await t.loader.load(echoServer(), "server"), {
      entry: "serve",
      entryArgs: [2],
      caps: [t.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)],
    });
    const client = t.kernel.spawn(await t.loader.load(echoClient(), "client"), {
      entry: "run",
      entryArgs: [2, 1000],
      caps: [t.kernel.capability(receiver, Rights.RECEIVER_CALL, 77)],
    });
    await t.kernel.run();
    expect(client.returnValue).toBe(1000);
    expect(server.alive).toBe(true);
    expect(t.kernel.stuck()).toEqual([server]);
    t.kernel.kill(server.pid);
  });

  it("gives a caller E_PEER_DEAD when the server dies holding its reply", async () => {
    const t = testMachine();
    const receiver = receiverIn(t.kernel.rootMemory);
    const server = t.kernel.spawn(await t.loader.load(receiveOnce(), "server"), {
      entry: "block",
      entryArgs: [2],
      caps: [t.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)],
    });
    const client = t.kernel.spawn(await t.loader.load(echoClient(), "client"), {
      entry: "run",
      entryArgs: [2, 1],
      caps: [t.kernel.capability(receiver, Rights.RECEIVER_CALL)],
    });
    await t.kernel.run();
    // The server took the call and returned without replying: its reply capability was disposed.
    expect(server.returnValue).toBe(0);
    expect(client.returnValue).toBe(Status.E_PEER_DEAD);
  });
});
