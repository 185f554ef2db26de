// Looks "hello" up again and again (every 20 ms) while the registry may be restarted under it
// (test/boot/init): says "registry-watch: hello found" the first time, "registry-watch: hello
// missing: STATUS" whenever a lookup after that fails, and "registry-watch: N lookups" every 25.
// Config: `service watch registry-watch`.
import { print, errorName, registryLookup, capDrop, sleep } from "../lib";

let found = false;
for (let n = 1; ; n++) {
  const hello = registryLookup("hello");
  if (hello > 0) {
    capDrop(hello);
    if (!found) print("registry-watch: hello found");
    found = true;
  } else if (found) print("registry-watch: hello missing: " + errorName(hello));
  if (n % 25 == 0) print("registry-watch: " + n.toString() + " lookups");
  sleep(20_000_000);
}
