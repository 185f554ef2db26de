// The other end of hello-service: finds "hello" in the registry (retrying while the service has
// not registered yet), greets it, lists the registry's names, and exits 0 when all of it worked.
// Config: service client hello-client
import {
  print, eprint, errorName, exit, sleep, msgBegin, msgAddName, msgInvoke, msgLabel, msgName, registryLookup,
  registryList, E_INVALID_CAP, check,
} from "../lib";

const GREET: u32 = 1;
const TRIES = 100;

let hello = registryLookup("hello");
for (let i = 1; i < TRIES && hello == E_INVALID_CAP; i++) {
  sleep(10_000_000);
  hello = registryLookup("hello");
}
check("hello-client", "look up hello", hello);

msgBegin(GREET);
msgAddName("hello-client");
check("hello-client", "greet", msgInvoke(hello));
if (msgLabel() != 0) check("hello-client", "greet", -<i32>msgLabel());
print("hello-client: hello answered \"" + msgName() + "\"");

let names = "";
let index: u32 = 0;
do {
  const entry = registryList(index);
  check("hello-client", "list", entry.status);
  if (entry.name.length > 0) names += (names.length > 0 ? " " : "") + entry.name;
  index = entry.next;
} while (index != 0);
print("hello-client: the registry lists: " + names);

const missing = registryLookup("no-such-service");
print("hello-client: looking up no-such-service: " + errorName(missing));
exit(missing == E_INVALID_CAP ? 0 : 1);
