// echo [-n] [ARG...]: prints its arguments joined by spaces, then a newline (-n: none). The shell
// has its own echo built in (with dash's escapes); this one is for programs that run programs.
import { args, write, exit } from "../lib";

const argv = args().slice(1);
let newline = true;
if (argv.length > 0 && argv[0] == "-n") {
  newline = false;
  argv.shift();
}
write(argv.join(" ") + (newline ? "\n" : ""));
exit(0);
