#!/usr/bin/env node
// Checks the runtime before loading anything: Dogma suspends processes with WebAssembly JSPI,
// which Node.js has from version 26. npm scripts and npx run the Node the package depends on.
const major = Number(process.versions.node.split(".")[0]);
if (major < 26 || typeof WebAssembly.Suspending !== "function" || typeof WebAssembly.promising !== "function") {
  process.stderr.write(
    `dogma: Node.js ${process.versions.node} lacks WebAssembly JSPI (WebAssembly.Suspending); Dogma needs Node.js 26 or newer.\n` +
      "Run it through npm (npm start, npx dogma), which uses the Node.js 26 this package installs.\n",
  );
  process.exit(1);
}
// Node keeps the compiled (and type-stripped) code of every module it loads in its compile cache,
// so a later start does not strip and compile the whole system again (0.2 s of a start otherwise).
// (Node's modules from process.getBuiltinModule: an import of one builds its ESM facade, which
// runs every lazy getter of its exports, a dozen of Node's modules loaded for node:fs.)
process.getBuiltinModule("node:module").enableCompileCache?.();
// The bundled command line (npm run build) while it is as new as the sources, else the sources
// themselves: one file of JavaScript loads in a fraction of the time of their ~190 modules.
const { freshManifest, runBundle } = await import("../src/hosts/node/cli-bundle.js");
const { fileURLToPath } = process.getBuiltinModule("node:url");
const bundle = freshManifest(fileURLToPath(new URL("..", import.meta.url)));
const argv = process.argv.slice(2);
process.exitCode = bundle ? await runBundle(bundle, argv) : await (await import("../src/hosts/node/cli.ts")).main(argv);
