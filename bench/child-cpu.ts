// Preloaded into a benchmark's child Node (`node --import bench/child-cpu.ts ...`): at its exit it
// appends the CPU time of the whole process (every thread: V8 compiles and collects on threads of
// its own), in ms, to the file DOGMA_BENCH_CPU_FILE names. On a shared machine a process's wall
// time grows with the load; its CPU time much less.
import { appendFileSync } from "node:fs";

const file = process.env.DOGMA_BENCH_CPU_FILE;
if (file) {
  process.on("exit", () => {
    const usage = process.cpuUsage();
    appendFileSync(file, `${(usage.user + usage.system) / 1000}\n`);
  });
}
