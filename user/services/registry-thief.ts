// A hostile program for test/programs/registry-authority.test.ts: run from the shell with a
// manifest that asks for its streams and its job's Memory only (no root, no host), it tries what
// slot 2, the registry every program holds, might give it beyond that:
//   registry-thief: block: LOOKUP_STATUS [read N sectors; the secret SECRET: found|not found]
//   registry-thief: register fs: STATUS
//   registry-thief: register log: STATUS
//   registry-thief: register mine: STATUS
// ARGS: the secret to look for on the raw disk. A status of 0 means the attack worked.
import { print, args, capDrop, Memory, Receiver, registryLookup, registryRegister, errorName, CAP_MOVE, RIGHT_RECEIVER_CALL } from "../lib";
import { BlockClient, BLOCK_SERVICE } from "../lib/block-client";

const JOB_MEMORY: i32 = 7;
const given = args();
const secret: string = given.length > 1 ? given[1] : "no secret given";

function statusOf(status: i32): string {
  return status >= 0 ? "0" : errorName(status);
}

/** Whether the `length` bytes at `at` hold `text` (ASCII) anywhere. */
function holds(at: usize, length: u32, text: string): bool {
  const n = <u32>text.length;
  if (n == 0 || n > length) return false;
  for (let i: u32 = 0; i + n <= length; i++) {
    let k: u32 = 0;
    while (k < n && <i32>load<u8>(at + i + k) == text.charCodeAt(<i32>k)) k++;
    if (k == n) return true;
  }
  return false;
}

const found = registryLookup(BLOCK_SERVICE);
let line = "registry-thief: block: " + statusOf(found);
if (found > 0) {
  capDrop(found);
  const client = new BlockClient(JOB_MEMORY, 16);
  const connected = client.connect(1);
  if (connected < 0) line += " (cannot speak to it: " + errorName(connected) + ")";
  else {
    const sectorsPerRead = client.bufferBytes / client.sectorSize;
    let sectors: u64 = 0;
    let seen = false;
    for (let sector: u64 = 0; sector < client.capacity && !seen; sector += sectorsPerRead) {
      const count = <u32>min(<u64>sectorsPerRead, client.capacity - sector);
      const n = client.read(sector, count);
      if (n < 0) break;
      sectors += count;
      seen = holds(client.address, <u32>n, secret);
    }
    line += " read " + sectors.toString() + " sectors; the secret " + secret + ": " + (seen ? "found" : "not found");
  }
}
print(line);

const memory = new Memory(JOB_MEMORY);
const made = memory.createReceiver(1);
const names = ["fs", "log", "mine"];
for (let i = 0; i < names.length; i++) {
  let status = made;
  if (made > 0) {
    const call = new Receiver(made).mint(0, RIGHT_RECEIVER_CALL);
    status = call < 0 ? call : registryRegister(names[i], <u32>call | CAP_MOVE);
  }
  print("registry-thief: register " + names[i] + ": " + statusOf(status));
}
