/**
 * Debian's Chromium driven by playwright-core, for the browser tests and benchmarks: headless, no
 * sandbox (containers), nothing that reaches the network, and a fresh profile each launch (so OPFS
 * and Cache Storage start empty; a profile reopened keeps them, as a browser restart does).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM = process.env.DOGMA_CHROMIUM ?? "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Profile {
  readonly dir: string;
  /** Opens the browser on this profile (extra flags for a browser built otherwise: no JSPI, say). */
  open(extraFlags?: string[]): Promise<BrowserContext>;
  remove(): void;
}

/** Fails with what to do when there is no browser to drive (CI installs it: .ci/run). */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install chromium, as .ci/run does) or set DOGMA_CHROMIUM`);
}

export function freshProfile(): Profile {
  const dir = mkdtempSync(join(tmpdir(), "dogma-chromium-"));
  return {
    dir,
    open: (extraFlags = []) =>
      chromium.launchPersistentContext(dir, {
        executablePath: CHROMIUM,
        headless: true,
        args: [...FLAGS, ...extraFlags],
        viewport: { width: 1400, height: 860 },
      }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
