/**
 * Driving the Dogma page as a person would: keys into the terminal, clicks on the views, and
 * reading what the terminal and the views show. Waits are for what the page shows, bounded only
 * against hangs.
 */
import type { Page } from "playwright-core";
import { patience } from "../helpers/patience.ts";

export const PATIENCE_MS = patience(45_000);

interface Probe {
  terminalText(): string;
  terminalSize(): { cols: number; rows: number };
  promptMs: number | null;
  bootInfo: { cachedModules: number; rewrittenModules: number; loadMs: number } | null;
  ended: string | null;
}

export function terminalText(page: Page): Promise<string> {
  return page.evaluate(() => (window as unknown as { dogma: Probe }).dogma.terminalText());
}

/** Waits until the terminal's text after character `from` matches `pattern`; fails with the text if it never does. */
export async function waitForTerminal(page: Page, pattern: RegExp, from = 0): Promise<string> {
  try {
    await page.waitForFunction(
      ([source, flags, start]) => new RegExp(source, flags).test((window as unknown as { dogma: Probe }).dogma.terminalText().slice(start)),
      [pattern.source, pattern.flags, from] as const,
      { timeout: PATIENCE_MS, polling: 50 },
    );
  } catch (error) {
    throw new Error(`the terminal never showed ${pattern}:\n${(await terminalText(page)).slice(from).slice(-3000)}\n(${(error as Error).message.split("\n")[0]})`);
  }
  return (await terminalText(page)).slice(from);
}

/** Waits for the shell's first prompt (the page's probe marks it). */
export async function waitForPrompt(page: Page): Promise<void> {
  try {
    await page.waitForFunction(() => (window as unknown as { dogma?: Probe }).dogma?.promptMs != null, null, { timeout: PATIENCE_MS, polling: 50 });
  } catch (error) {
    const notice = await page.locator("#notice").textContent().catch(() => "");
    throw new Error(`no prompt: ${notice}\n${(await terminalText(page).catch(() => "")).slice(-3000)}\n(${(error as Error).message.split("\n")[0]})`);
  }
}

/** Puts the keyboard's focus in the terminal (a click on the views takes it away). */
export function focusTerminal(page: Page): Promise<void> {
  return page.focus(".xterm-helper-textarea");
}

/** Types `text` into the terminal, as keys. */
export async function typeKeys(page: Page, text: string): Promise<void> {
  await focusTerminal(page);
  await page.keyboard.type(text);
}

/** Types `command` and Enter at the prompt; resolves with what followed once it matches `output`. */
export async function run(page: Page, command: string, output: RegExp): Promise<string> {
  const from = (await terminalText(page)).length;
  await typeKeys(page, `${command}\n`);
  return waitForTerminal(page, output, from);
}

export function probe<K extends keyof Probe>(page: Page, key: K): Promise<Probe[K]> {
  return page.evaluate((k) => (window as unknown as { dogma: Probe }).dogma[k], key) as Promise<Probe[K]>;
}

/** The live views' process rows: pid, name, state. */
export async function liveProcesses(page: Page): Promise<Array<{ pid: number; name: string; state: string }>> {
  return page.$$eval("#processes tbody tr", (rows) => rows.map((r) => ({ pid: Number(r.children[0]!.textContent), name: r.children[1]!.textContent!, state: r.children[2]!.textContent! })));
}

export async function endedProcesses(page: Page): Promise<Array<{ pid: number; name: string; end: string }>> {
  return page.$$eval("#ended tbody tr", (rows) => rows.map((r) => ({ pid: Number(r.children[0]!.textContent), name: r.children[1]!.textContent!, end: r.children[2]!.textContent! })));
}

/** Waits until `check` holds of the views' tables (they redraw twice a second). */
export async function waitForViews(page: Page, what: string, check: (live: Awaited<ReturnType<typeof liveProcesses>>, ended: Awaited<ReturnType<typeof endedProcesses>>) => boolean): Promise<void> {
  const giveUp = Date.now() + PATIENCE_MS;
  for (;;) {
    const live = await liveProcesses(page);
    const ended = await endedProcesses(page);
    if (check(live, ended)) return;
    if (Date.now() > giveUp) throw new Error(`the views never showed ${what}:\nlive ${JSON.stringify(live)}\nended ${JSON.stringify(ended)}`);
    await page.waitForTimeout(100);
  }
}

/** Pastes `text` into the terminal, as a paste from the clipboard arrives (one event, all of it). */
export async function paste(page: Page, text: string): Promise<void> {
  await focusTerminal(page);
  await page.evaluate((pasted) => {
    const data = new DataTransfer();
    data.setData("text/plain", pasted);
    document.querySelector(".xterm-helper-textarea")!.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
}

/** Drops files on the page as a person drags them from a file manager. */
export async function dropFiles(page: Page, files: Array<{ name: string; bytes: number[] }>): Promise<void> {
  const transfer = await page.evaluateHandle((given) => {
    const data = new DataTransfer();
    for (const file of given) data.items.add(new File([new Uint8Array(file.bytes)], file.name, { type: "application/wasm" }));
    return data;
  }, files);
  await page.dispatchEvent("body", "drop", { dataTransfer: transfer });
}
