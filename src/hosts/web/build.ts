/**
 * Building and serving the browser page (Node side; `npm run web`, `dogma web`, the browser tests
 * and benchmarks). vite bundles src/hosts/web into build/web, a static folder that can be hosted
 * anywhere, with the boot modules and the config under boot/. The server adds the headers that
 * make the page cross-origin isolated (docs/WEB.md "Serving").
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type InlineConfig, type Plugin, build, preview } from "vite";
import { modulesOf, startedOnly } from "../../boot/config-modules.ts";
import { loaderIdentity } from "../node/loader-identity.ts";
import { packageRoot } from "../node/package-root.ts";

// The page's sources, whether this runs from them or from the bundled command line (build/node).
const here = join(packageRoot, "src/hosts/web");
export const WEB_OUT_DIR = join(packageRoot, "build/web");
const MODULES_DIR = join(packageRoot, "build/user");
const CONFIG_FILE = join(packageRoot, "user/boot/init.conf");

/**
 * Cross-origin isolation: performance.now() then has 5 µs resolution instead of 100 µs, which the
 * kernel's time slices and CPU accounting read on every switch. Nothing the page loads is
 * cross-origin, so the isolation costs nothing.
 */
export const ISOLATION_HEADERS = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

/** The boot files the page fetches: boot/init.conf and boot/NAME.wasm for init and each module the config names. */
function bootFiles(): Array<{ fileName: string; source: Uint8Array | string }> {
  const config = readFileSync(CONFIG_FILE, "utf8");
  const files: Array<{ fileName: string; source: Uint8Array | string }> = [{ fileName: "boot/init.conf", source: config }];
  const installed = startedOnly(config);
  for (const name of ["init", ...modulesOf(config)]) {
    const file = join(MODULES_DIR, `${name}.wasm`);
    // A `start` line's program that was not built is one added with `install`: init reads it from the disk.
    if (!existsSync(file) && installed.has(name)) continue;
    if (!existsSync(file)) throw new Error(`boot module ${name} is not built (${file}): run npm run build first`);
    files.push({ fileName: `boot/${name}.wasm`, source: new Uint8Array(readFileSync(file)) });
  }
  return files;
}

function bootFilesPlugin(): Plugin {
  return {
    name: "dogma-boot-files",
    generateBundle() {
      for (const file of bootFiles()) this.emitFile({ type: "asset", fileName: file.fileName, source: file.source });
    },
    configureServer(server) {
      // `vite` (dev): the same files, read at each request.
      server.middlewares.use((request, response, next) => {
        const path = (request.url ?? "").split("?")[0]!;
        const file = path.startsWith("/boot/") ? bootFiles().find((f) => `/${f.fileName}` === path) : undefined;
        if (!file) return next();
        response.setHeader("Content-Type", file.fileName.endsWith(".wasm") ? "application/wasm" : "text/plain");
        response.end(file.source);
      });
    },
  };
}

export function webConfig(): InlineConfig {
  return {
    configFile: false,
    root: here,
    // Relative URLs: the built folder works from any path it is hosted at.
    base: "./",
    logLevel: "warn",
    build: { outDir: WEB_OUT_DIR, emptyOutDir: true, target: "esnext", chunkSizeWarningLimit: 20_000, reportCompressedSize: false },
    worker: { format: "es" },
    // The page's module cache keys name the code that rewrote (LoaderOptions.codeIdentity).
    define: { __DOGMA_LOADER_IDENTITY__: JSON.stringify(loaderIdentity()) },
    plugins: [bootFilesPlugin()],
    server: { headers: ISOLATION_HEADERS },
    preview: { headers: ISOLATION_HEADERS },
  };
}

export async function buildWeb(): Promise<void> {
  await build(webConfig());
}

export interface WebServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves build/web on `host:port` (port 0: any free one) with the isolation headers. */
export async function serveWeb(options: { port?: number; host?: string } = {}): Promise<WebServer> {
  if (!existsSync(join(WEB_OUT_DIR, "index.html"))) throw new Error(`the page is not built (${WEB_OUT_DIR}): build it first`);
  const server = await preview({ ...webConfig(), preview: { headers: ISOLATION_HEADERS, port: options.port ?? 8737, strictPort: options.port !== undefined, host: options.host ?? "127.0.0.1" } });
  const address = server.httpServer.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return { url: `http://${options.host ?? "127.0.0.1"}:${port}/`, close: () => server.close() };
}
