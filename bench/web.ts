// The browser section: Dogma in headless Chromium (Debian's, through playwright-core). Boot to the
// shell's prompt in the real page (build/web), cold (a fresh browser profile: no module cache) and
// cached, beside the Node host's boot of the same run; then, in a worker of a benchmark page
// (bench/web-bench-*.ts, the same kernel and loader the page runs): call/reply round trips beside
// the Node host's, with the live views watching and taking snapshots beside without, the bench-*
// kernels rewritten beside native in the same V8, and a page sealed in JavaScript beside WebCrypto.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { build, preview } from "vite";
import type { BrowserContext, Page } from "playwright-core";
import { buildWeb, ISOLATION_HEADERS, serveWeb } from "../src/hosts/web/build.ts";
import { freshProfile } from "../test/web/chromium.ts";
import type { BenchAnswer, BenchAsk } from "./web-bench-worker.ts";
import { CLIENT, DogmaIpc, SERVER } from "./ipc.ts";
import { geomean, median, result, type Result, type Section } from "./harness.ts";
import { PROGRAMS } from "./rewritten-vs-native.ts";

const root = join(import.meta.dirname, "..");
const BENCH_OUT = join(root, "build/web-bench");
const BOOTS = 3;
const TRIPS = 100_000;
const IPC_RUNS = 9;
const KERNEL_RUNS = 5;
const SEAL_PAGES = 2000;
const PATIENCE_MS = 120_000;

/** The benchmark page, with the programs it runs under programs/. */
async function buildBenchPage(): Promise<void> {
  const programs: Array<[string, Uint8Array]> = [["ipc-server", SERVER], ["ipc-client", CLIENT], ...PROGRAMS.map((name) => [name, readFileSync(join(root, "build/user", `${name}.wasm`))] as [string, Uint8Array])];
  await build({
    configFile: false,
    root: import.meta.dirname,
    base: "./",
    logLevel: "warn",
    build: { outDir: BENCH_OUT, emptyOutDir: true, target: "esnext", chunkSizeWarningLimit: 20_000, reportCompressedSize: false, rollupOptions: { input: join(import.meta.dirname, "web-bench.html") } },
    worker: { format: "es" },
    plugins: [{ name: "dogma-bench-programs", generateBundle() { for (const [name, source] of programs) this.emitFile({ type: "asset", fileName: `programs/${name}.wasm`, source }); } }],
  });
}

/** ms from the page's start to the shell's prompt; to the worker's code loaded; the worker's boot (modules loaded to the prompt). */
async function bootOnce(page: Page, url: string): Promise<{ promptMs: number; readyMs: number; fetchMs: number; loadMs: number; rewritten: number }> {
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { dogma?: { promptMs: number | null } }).dogma?.promptMs != null, null, { timeout: PATIENCE_MS, polling: 20 });
  return page.evaluate(() => {
    const probe = (window as unknown as { dogma: { promptMs: number; workerReadyMs: number; bootInfo: { fetchMs: number; loadMs: number; rewrittenModules: number } } }).dogma;
    return { promptMs: probe.promptMs, readyMs: probe.workerReadyMs, fetchMs: probe.bootInfo.fetchMs, loadMs: probe.bootInfo.loadMs, rewritten: probe.bootInfo.rewrittenModules };
  });
}

async function browserBoots(url: string) {
  const out = { cold: [] as number[], cached: [] as number[], coldReady: [] as number[], cachedReady: [] as number[], coldFetch: [] as number[], cachedFetch: [] as number[], coldLoad: [] as number[], cachedLoad: [] as number[] };
  // A disk in memory, as the Node host's boot benchmark uses: each boot formats and installs /bin.
  const pageUrl = `${url}?disk=memory&views=0`;
  for (let i = 0; i < BOOTS; i++) {
    const profile = freshProfile();
    const context = await profile.open();
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const cold = await bootOnce(page, pageUrl);
      if (cold.rewritten === 0) throw new Error("bench bug: a fresh profile booted from a module cache");
      out.cold.push(cold.promptMs);
      out.coldReady.push(cold.readyMs);
      out.coldFetch.push(cold.fetchMs);
      out.coldLoad.push(cold.loadMs);
      if (i === 0) {
        for (let j = 0; j < BOOTS; j++) {
          const cached = await bootOnce(page, pageUrl);
          if (cached.rewritten !== 0) throw new Error(`bench bug: a cached boot rewrote ${cached.rewritten} modules`);
          out.cached.push(cached.promptMs);
          out.cachedReady.push(cached.readyMs);
          out.cachedFetch.push(cached.fetchMs);
          out.cachedLoad.push(cached.loadMs);
        }
      }
    } finally {
      await context.close();
      profile.remove();
    }
  }
  return out;
}

async function benchmark(page: Page, request: BenchAsk): Promise<BenchAnswer> {
  const answer = await page.evaluate((r) => (window as unknown as { benchmark(r: unknown): Promise<BenchAnswer> }).benchmark(r), request);
  if (answer.kind === "error") throw new Error(`browser benchmark ${request.kind}: ${answer.message}`);
  return answer;
}

export async function webBenchmarks(nodeBoot: readonly Result[]): Promise<Section[]> {
  if (!existsSync("/usr/bin/chromium") && !process.env.DOGMA_CHROMIUM) {
    return [{ title: "In the browser (headless Chromium)", results: [], notes: ["skipped: no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does)"] }];
  }
  await buildWeb();
  await buildBenchPage();
  const site = await serveWeb({ port: 0 });
  const benchSite = await preview({ configFile: false, root: import.meta.dirname, logLevel: "warn", build: { outDir: BENCH_OUT }, preview: { port: 0, host: "127.0.0.1", headers: ISOLATION_HEADERS } });
  const address = benchSite.httpServer.address();
  const benchUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/web-bench.html`;
  let context: BrowserContext | null = null;
  const profile = freshProfile();
  try {
    const boots = await browserBoots(site.url);
    context = await profile.open();
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(benchUrl);
    const version = context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent));

    const closed: number[] = [];
    const open: number[] = [];
    let snapshots = 0;
    // A warm-up pair first (V8 compiles the kernel's and the inspector's code then), not counted.
    for (const views of [false, true]) await benchmark(page, { kind: "ipc", trips: TRIPS, words: 0, views });
    for (let i = 0; i < IPC_RUNS; i++) {
      closed.push(((await benchmark(page, { kind: "ipc", trips: TRIPS, words: 0, views: false })) as { nsPerRoundTrip: number }).nsPerRoundTrip);
      const watched = (await benchmark(page, { kind: "ipc", trips: TRIPS, words: 0, views: true })) as { nsPerRoundTrip: number; snapshots: number };
      open.push(watched.nsPerRoundTrip);
      snapshots += watched.snapshots;
    }
    const node = new DogmaIpc();
    await node.load();
    const nodeTrips: number[] = [];
    await node.roundTrip(0, TRIPS);
    for (let i = 0; i < IPC_RUNS; i++) nodeTrips.push(await node.roundTrip(0, TRIPS));

    const kernels = (await benchmark(page, { kind: "kernels", names: [...PROGRAMS], runs: KERNEL_RUNS })) as { rows: Array<{ name: string; nativeMs: number; dogmaMs: number }> };
    const seal = (await benchmark(page, { kind: "seal", pages: SEAL_PAGES })) as { portableMicros: number; webCryptoMicros: number };

    // The page boots on a new disk in memory each time: the Node host's boot on a new disk.
    const nodeCold = nodeBoot.find((r) => r.name.includes("new disk"))!;
    const nodeCached = nodeBoot.find((r) => r.name.includes("cached"))!;
    const results: Result[] = [
      result("boot to the prompt in the page, cold (fresh profile: no module cache)", median(boots.cold), "ms", "Node host, cold on a new disk (this run's Boot)", nodeCold.value),
      result("boot to the prompt in the page, modules in Cache Storage", median(boots.cached), "ms", "Node host, modules cached", nodeCached.value),
      result("  cold: the worker's code loaded (page start to its first message)", median(boots.coldReady), "ms", "page start to prompt, cold", median(boots.cold)),
      result("  cold: fetching the boot files", median(boots.coldFetch), "ms", "page start to prompt, cold", median(boots.cold)),
      result("  cold: the worker's boot (loading the modules to the prompt)", median(boots.coldLoad), "ms", "page start to prompt, cold", median(boots.cold)),
      result("  cached: the worker's code loaded", median(boots.cachedReady), "ms", "page start to prompt, cached", median(boots.cached)),
      result("  cached: fetching the boot files", median(boots.cachedFetch), "ms", "page start to prompt, cached", median(boots.cached)),
      result("  cached: the worker's boot", median(boots.cachedLoad), "ms", "page start to prompt, cached", median(boots.cached)),
      result("call/reply round trip in Chromium (0 words)", median(closed), "ns", "the same on the Node host", median(nodeTrips)),
      result("call/reply round trip in Chromium, live views watching", median(open), "ns", "views closed", median(closed)),
      ...kernels.rows.map((row) => result(`${row.name} in Chromium: Dogma spawn+run`, row.dogmaMs, "ms", "native instantiate+run, same V8", row.nativeMs)),
      result("geometric mean of Dogma/native in Chromium", geomean(kernels.rows.map((row) => row.dogmaMs / row.nativeMs)), "×", "native", 1),
      result("seal a 4 KiB page: AES-256-GCM in JavaScript (the kernel's)", seal.portableMicros, "µs", "WebCrypto AES-GCM, awaited", seal.webCryptoMicros),
    ];
    return [
      {
        title: `In the browser (headless ${version}; medians)`,
        results,
        notes: [
          `Boot: the real page (build/web) with a disk in memory (as the Node boot benchmark), from the page's start (performance.timeOrigin) to the prompt on its terminal: the worker's script (the loader included) fetched and compiled, the boot modules fetched, loaded, the system booted. Cold: ${BOOTS} fresh browser profiles; cached: the first profile reloaded ${BOOTS} times.`,
          `Round trips: ${TRIPS.toLocaleString("en")} call/reply round trips between bench/ipc.ts's two programs, ${IPC_RUNS} runs each after a warm-up pair, alternating, in a dedicated worker as the page's machine runs. Views watching: the inspector's scheduler and IPC observers on, and a snapshot of every view taken and posted every 500 ms as the page asks (${snapshots} in all).`,
          "Kernels: bench/rewritten-vs-native.ts's programs, run(1), median of 5 after a warm-up, results compared on every run; native is the same V8 (Chromium's) instantiating the original binary.",
          "Sealing: the kernel seals a page synchronously in the step that evicts it; WebCrypto only answers with a Promise, so the browser host seals with the JavaScript AES-GCM (docs/WEB.md \"Page sealing\"). WebCrypto's figure includes awaiting each result.",
        ],
      },
    ];
  } finally {
    await context?.close();
    profile.remove();
    await benchSite.close();
    await site.close();
  }
}
