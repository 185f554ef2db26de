// The page of the browser benchmarks (bench/web.ts drives it): it runs each benchmark in a dedicated
// worker, as the Dogma page runs its machine, and hands the figures back to the driver.
import type { BenchAnswer, BenchAsk, BenchRequest } from "./web-bench-worker.ts";

const worker = new Worker(new URL("./web-bench-worker.ts", import.meta.url), { type: "module" });
const ready = new Promise<void>((resolve) => worker.addEventListener("message", (event) => event.data === "ready" && resolve(), { once: true }));
let next = 1;
const waiting = new Map<number, (answer: BenchAnswer) => void>();
worker.addEventListener("message", (event: MessageEvent<BenchAnswer | "ready">) => {
  if (event.data === "ready") return;
  waiting.get(event.data.id)?.(event.data);
  waiting.delete(event.data.id);
});

async function benchmark(request: BenchAsk): Promise<BenchAnswer> {
  await ready;
  const id = next++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    worker.postMessage({ ...request, id });
  });
}

(window as unknown as { benchmark: typeof benchmark }).benchmark = benchmark;
