// Speaks to the log service outside its contract (contracts/log.contract) and inside it: every
// message the contract forbids is refused by the kernel (E_CONTRACT, with the reason printed) and
// never reaches the log, whose ring must hold only the lines written properly (test/drivers/log).
// Config: service check log-contract-check
import {
  print, exit, sleep, errorName, msgBegin, msgAddWord, msgAddCap, msgInvoke, logLookup, logWrite, logRead, contractRefusal,
  E_INVALID_CAP, E_CONTRACT, check,
} from "../lib";
import { Log } from "../lib/contracts/log";

let log = logLookup();
for (let i = 1; i < 100 && log == E_INVALID_CAP; i++) {
  sleep(10_000_000);
  log = logLookup();
}
check("log-contract-check", "look up log", log);

let refused = 0;
/** Invokes the message in the buffer on the log; it must be refused by the contract. */
function mustBeRefused(what: string): void {
  const status = msgInvoke(log);
  if (status != E_CONTRACT) {
    print("log-contract-check: " + what + " answered " + errorName(status) + ", not E_CONTRACT");
    exit(1);
  }
  print("log-contract-check: " + what + ": " + contractRefusal());
  refused++;
}

msgBegin(3);
msgAddWord(0x4a5a5158); // "XQZJ"
mustBeRefused("label 3");
msgBegin(Log.Write); // no length word
mustBeRefused("an empty Write");
msgBegin(Log.Read);
msgAddWord(0);
msgAddWord(0);
msgAddWord(0);
mustBeRefused("a Read of 3 words");
msgBegin(Log.Write);
msgAddWord(4);
msgAddWord(0x4a58515a); // "ZQXJ": a line the log must never get
msgAddCap(1);
mustBeRefused("a Write carrying a capability");

check("log-contract-check", "write", logWrite(log, "contract-checked line"));
let sequence: u32 = 0;
let found = false;
let leaked = false;
for (;;) {
  const line = logRead(log, sequence);
  if (line == null) break;
  if (line.text == "contract-checked line") found = true;
  if (line.text.includes("XQZJ") || line.text.includes("ZQXJ")) leaked = true;
  sequence = line.next;
}
print("log-contract-check: " + refused.toString() + " refused; the line written is kept: " + found.toString() + "; a refused one reached the log: " + leaked.toString());
exit(found && !leaked ? 0 : 1);
