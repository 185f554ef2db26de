/** The `dogma` command's commands and their options (cli-options.ts reads and describes them). */
import type { CommandSpec } from "./cli-options.ts";

export const RUN: CommandSpec = {
  name: "run",
  operands: "PROGRAM.wasm [ARGS...]",
  summary: "run a WebAssembly program as a sealed Dogma process on a fresh machine",
  operandsEndOptions: true,
  details: `
Runs a WebAssembly program as a sealed Dogma process on a fresh machine, with this terminal's
stdin, stdout and stderr as its console, and exits with its exit code (a fault: 139; a binary
the loader refuses: 126). Options come before PROGRAM.wasm; what follows it is the program's.

The program starts with capabilities (docs/ABI.md, "Capabilities"): slot 1 itself, slot 2 a
Memory holding all free memory, slots 3, 4, ... an Image for each --module, in order, from
which it can create processes, then a directory for each --dir: a WASI program's preopens,
fd 3 and on, served by a host folder server (docs/HOSTFS.md "Host folders").`,
  options: [
    { name: "memory", value: "SIZE", description: "physical memory, such as 16M or 1G (default 128M)" },
    { name: "module", value: "FILE", multiple: true, description: "load FILE too and give the program an Image capability to it" },
    {
      name: "dir",
      value: "HOST[::GUEST][:ro]",
      multiple: true,
      description: "give the program the host folder HOST, read-write (read-only with :ro), as the directory GUEST (default: HOST as written; --dir . for relative paths)",
    },
    { name: "env", value: "NAME=VALUE", multiple: true, description: "put NAME=VALUE in the program's environment (wins over --inherit-env)" },
    { name: "inherit-env", description: "give the program this shell's environment" },
    { name: "trace", description: "print one line per kernel call to stderr" },
    { name: "no-cache", description: "rewrite the program even if a cached rewrite exists" },
  ],
};

export const BOOT: CommandSpec = {
  name: "boot",
  operands: "",
  summary: "boot the system into its shell on this terminal (npm start)",
  details: `
Boots the system: process 1 (init) reads the config and starts the services it names from
build/user, then the shell. The console shows a banner and the shell; what the services say
goes to the log service (dmesg in the shell reads it), and to the console too with --verbose.
When process 1 ends with a fault the machine resets and boots again. exit N in the shell ends
with status N; SIGTERM, SIGINT or a closed terminal halts the machine cleanly first.

The disk is a file (a 64 MiB image is created when missing; default $DOGMA_DATA_DIR/disk.img,
else $XDG_DATA_HOME/dogma/disk.img, else ~/.local/share/dogma/disk.img), locked while the
machine runs: a second boot of it is refused.`,
  options: [
    { name: "disk", value: "FILE", description: "the disk image (made, 64 MiB, when missing)" },
    { name: "read-only", description: "use the disk without writing to it (the file system serves it read-only)" },
    {
      name: "format",
      description: "erase the disk and make a new file system on it (without it only a blank disk is formatted; one the file system cannot read is left alone)",
    },
    { name: "share", value: "DIR", description: "show the host folder DIR read-only as /host" },
    { name: "memory", value: "SIZE", description: "physical memory, such as 16M or 1G (default 128M)" },
    { name: "config", value: "FILE", description: "init's config (default user/boot/init.conf): the services to start and the programs the shell runs" },
    { name: "verbose", short: "v", description: "show the boot's and the services' messages on the console as they come" },
    { name: "no-cache", description: "rewrite every boot module even if a cached rewrite exists" },
  ],
};

export const CACHE: CommandSpec = {
  name: "cache",
  operands: "[clear]",
  summary: "show the module cache, or empty it (dogma cache clear)",
  details: `
Shows the module cache (rewritten binaries kept between runs: where, how many, how big, its
bound), or empties it with "clear". The bound is 1 GiB unless DOGMA_CACHE_MAX says otherwise
(e.g. 256M); the records used longest ago go first. DOGMA_CACHE_DIR moves the cache.`,
  options: [],
};

export const WEB: CommandSpec = {
  name: "web",
  operands: "",
  summary: "build the browser page and serve it: the same system in a browser tab (npm run web)",
  details: `
Builds the browser page (vite) into build/web and serves it on localhost with the headers it
wants, printing the URL. Open it in Chromium 137 or newer.`,
  options: [
    { name: "port", value: "N", description: "the port to serve on (default 8737)" },
    { name: "host", value: "ADDRESS", description: "the address to serve on (default 127.0.0.1)" },
    { name: "no-build", description: "serve what is built, without building the page again" },
  ],
};

export const COMMANDS: readonly CommandSpec[] = [RUN, BOOT, CACHE, WEB];
