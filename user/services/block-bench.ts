// Measures the block driver from a client: sequential reads of the first 32 MiB of the disk in
// requests of 1 MiB, 64 KiB and 4 KiB, then 4 KiB writes and a flush; prints MiB/s and requests/s.
// One client, so one call in flight at a time (the driver splits a big one into many device
// requests). Each figure three times over. Config:
//   service bench block-bench memory=512
// Slots: 2 the registry, 3 its Memory.
import { exit, now, lineBegin, lineAdd, lineAddI64, lineAddU32, linePrint, STDERR } from "../lib";
import { BlockClient, blockErrorName } from "../lib/block-client";
import { RegionBuffer } from "../lib/region-buffer";

const MEMORY: i32 = 3;
const TOTAL_SECTORS: u32 = 65536; // 32 MiB
const client = new BlockClient(MEMORY, 256); // 1 MiB buffer

function check(what: string, status: i32): void {
  if (status >= 0) return;
  lineBegin("block-bench: ");
  lineAdd(what);
  lineAdd(": ");
  lineAdd(blockErrorName(status));
  linePrint(STDERR);
  exit(1);
}

function report(what: string, sectorsPerRequest: u32, sectors: u32, ns: i64): void {
  const requests = sectors / sectorsPerRequest;
  lineBegin("block-bench: ");
  lineAdd(what);
  lineAdd(" ");
  lineAddU32(sectors >> 11);
  lineAdd(" MiB in ");
  lineAddU32(sectorsPerRequest >> 1);
  lineAdd(" KiB requests: ");
  lineAddI64(ns / 1_000_000);
  lineAdd(" ms, ");
  lineAddI64((<i64>sectors * 1_000_000_000) / (max<i64>(ns, 1) * 2048));
  lineAdd(" MiB/s, ");
  lineAddI64((<i64>requests * 1_000_000_000) / max<i64>(ns, 1));
  lineAdd(" requests/s");
  linePrint();
}

/** A buffer of one page, for 4 KiB requests: a Region moves whole, and 256 pages cost far more than one. */
const small = new RegionBuffer(MEMORY, 1);

function readAll(sectorsPerRequest: u32, sectors: u32): void {
  const buffer = sectorsPerRequest <= 8 ? small : client.buffer;
  const start = now();
  for (let s: u32 = 0; s < sectors; s += sectorsPerRequest) check("read", client.readWith(buffer, s, sectorsPerRequest));
  report("read", sectorsPerRequest, sectors, now() - start);
}

check("connect", client.connect());
// Three passes of each: a pass of a few milliseconds on a shared machine is as slow as the
// descheduling it meets (bench/block-throughput.ts takes the fastest).
for (let pass = 0; pass < 3; pass++) {
  readAll(2048, TOTAL_SECTORS);
  readAll(128, TOTAL_SECTORS);
  readAll(8, TOTAL_SECTORS / 4);
  const start = now();
  for (let s: u32 = 0; s < 8192; s += 8) check("write", client.writeWith(small, <u64>(TOTAL_SECTORS + s), 8));
  check("flush", client.flush());
  report("write", 8, 8192, now() - start);
}
exit(0);
