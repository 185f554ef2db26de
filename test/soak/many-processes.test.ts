/**
 * 100,000 live processes (issue 18), `npm run test:soak`: servers each blocked in a receive with
 * pages of its own on a 4 GiB machine (the most a WebAssembly memory holds), each answering a call,
 * then all ended with every frame and page of quota back. DOGMA_SOAK_PROCESSES sets another count.
 * The same at 2,100 runs in `npm test` (test/kernel/many-processes.test.ts). Takes about one
 * minutes and 4 GB of host memory; docs/MEMORY.md "How many processes" has the figures.
 */
import { expect, it } from "vitest";
import { KernelInspector } from "../../src/kernel/inspect.ts";
import { quiescent } from "../../src/kernel/serving.ts";
import { callEach, endServers, startServers } from "../helpers/many-servers.ts";
import { testMachine } from "../helpers/test-host.ts";

const COUNT = Number(process.env.DOGMA_SOAK_PROCESSES) || 100_000;

it(`${COUNT} servers wait with their own pages, each answers a call, and ending them gives every frame back`, async () => {
  const t = testMachine({ memory: 4 * 2 ** 30 - 65536 });
  const kernel = t.kernel;
  const free = kernel.frames.freeCount;
  const used = kernel.rootMemory.used;
  const farm = await startServers(t, COUNT);
  expect(farm.servers.filter((s) => !s.alive || !quiescent(s))).toEqual([]);
  expect(farm.servers.filter((s) => s.space.residentPages !== 2)).toEqual([]);
  expect(new KernelInspector(kernel).processes().live).toHaveLength(COUNT);
  expect(await callEach(t, farm)).toBe(0);
  expect(farm.servers.filter((s) => !s.alive)).toEqual([]);
  await endServers(t, farm);
  expect(kernel.processes.size).toBe(0);
  expect(kernel.frames.freeCount).toBe(free);
  expect(kernel.rootMemory.used).toBe(used);
});
