// `node bench/section-child.ts NAME ARGS_JSON OUT_FILE`: runs one bench section (sections.ts) in
// this fresh process and writes what it returned, as JSON, to OUT_FILE. run.ts starts one per section.
import { writeFileSync } from "node:fs";
import { SECTIONS, type SectionName } from "./sections.ts";

const [name, argsJson, out] = process.argv.slice(2);
if (!name || !(name in SECTIONS) || argsJson === undefined || !out) throw new Error(`usage: section-child.ts NAME ARGS_JSON OUT_FILE (NAME one of ${Object.keys(SECTIONS).join(", ")})`);
const run = SECTIONS[name as SectionName] as (...args: unknown[]) => Promise<unknown>;
writeFileSync(out, JSON.stringify(await run(...(JSON.parse(argsJson) as unknown[]))));
// A section may leave handles open (a machine's timers, a pool's workers); its figures are written.
process.exit(0);
