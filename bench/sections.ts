// Every section `npm run bench` runs, by name: run.ts runs each in a child process of its own
// (section-child.ts), so that none is measured on the heap the ones before it left (see README).
import { bigTools } from "./big-tools.ts";
import { boot } from "./boot.ts";
import { coldLoadMemory } from "./cold-load-memory.ts";
import { contextSwitch } from "./context-switch.ts";
import { contractIpc } from "./contract-ipc.ts";
import { debugging } from "./debugging.ts";
import { fsContract } from "./fs-contract.ts";
import { fsThroughput } from "./fs-throughput.ts";
import { install } from "./install.ts";
import { ipc } from "./ipc.ts";
import { loaderPhases } from "./loader-phases.ts";
import { loaderThroughput } from "./loader-throughput.ts";
import { memoryFaults } from "./memory-faults.ts";
import { pagerService } from "./pager-service.ts";
import { paging } from "./paging.ts";
import { processClone } from "./process-clone.ts";
import { processStart } from "./process-start.ts";
import { realPrograms } from "./real-programs.ts";
import { rewriteVariants } from "./rewrite-variants.ts";
import { rewrittenVsNative } from "./rewritten-vs-native.ts";
import { safePointCost } from "./safe-point-cost.ts";
import { engineAtScale, scheduling } from "./scheduling.ts";
import { slowPaths } from "./slow-paths.ts";
import { warmStart } from "./warm-start.ts";
import { wasiIo } from "./wasi-io.ts";
import { webBenchmarks } from "./web.ts";

export const SECTIONS = {
  contextSwitch,
  ipc,
  contractIpc,
  fsContract: () => fsContract(),
  fsThroughput,
  install,
  wasiIo,
  processStart,
  scheduling,
  engineAtScale,
  memoryFaults,
  processClone,
  paging,
  pagerService,
  rewrittenVsNative,
  realPrograms,
  bigTools: async () => bigTools(),
  rewriteVariants,
  safePointCost,
  slowPaths,
  debugging,
  loaderThroughput,
  coldLoadMemory: async () => coldLoadMemory(),
  loaderPhases,
  warmStart: async () => warmStart(),
  boot,
  webBenchmarks,
} satisfies Record<string, (...args: never[]) => Promise<unknown>>;

export type SectionName = keyof typeof SECTIONS;
