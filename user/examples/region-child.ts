// The child of region-handoff: receives a Region's owner capability on slot 2, checks the pattern
// its parent wrote, and writes its answer over it. Exits 0 when the pattern was all there.
import { print, eprint, errorName, exit, Receiver, Region, msgLabel, msgWord, msgCap, msgCapCount } from "../lib";

const INBOX: i32 = 2;
const HANDOFF: u32 = 1;

function pattern(i: u32): u32 {
  return 0xd06a0000 ^ (i * 0x9e3779b1);
}
function answer(i: u32): u32 {
  return ~pattern(i);
}

const status = new Receiver(INBOX).receive();
if (status < 0 || msgLabel() != HANDOFF || msgCapCount() != 1) {
  eprint("region-child: no region came (" + errorName(status) + ", " + msgCapCount().toString() + " capabilities)");
  exit(1);
}
const sentAddress = msgWord(0);
const region = new Region(msgCap(0));
const info = region.info();
if (info.status < 0 || !info.owner || info.address != sentAddress) {
  eprint("region-child: the capability is not the region's owner (" + errorName(info.status) + ")");
  exit(1);
}
print("region-child: own " + info.pages.toString() + " pages at 0x" + info.address.toString(16));

const address = <usize>info.address;
const words = info.pages * 1024;
let matched: u32 = 0;
for (let i: u32 = 0; i < words; i++) {
  const at = address + (<usize>i << 2);
  if (load<u32>(at) == pattern(i)) matched++;
  store<u32>(at, answer(i)); // we own it now: writable here, and nowhere else
}
print("region-child: " + matched.toString() + " of " + words.toString() + " words match; answer written");
exit(matched == words ? 0 : 1);
