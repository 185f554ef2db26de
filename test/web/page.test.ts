/**
 * Dogma in a real browser (Debian's Chromium through playwright-core): the page boots the default
 * config in a worker, a person types at the shell and watches the live views; the disk survives a
 * reload, and a reload in the middle of heavy writing; the views' switches reach a driver through
 * the front panel; bad input (a damaged disk, a binary the loader refuses, a browser without JSPI)
 * gets a message on the page, not a blank one. A screenshot of the page is kept in
 * build/test-artifacts/web-page.png.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BLOCK_BYTES, checkSuperblock } from "../../src/hosts/web/disk-check.ts";
import { buildWeb, serveWeb, type WebServer } from "../../src/hosts/web/build.ts";
import { patience } from "../helpers/patience.ts";
import { freshProfile, requireChromium, type Profile } from "./chromium.ts";
import { dropFiles, focusTerminal, liveProcesses, paste, terminalText, typeKeys, probe, run, waitForPrompt, waitForTerminal, waitForViews } from "./page-driver.ts";

const ARTIFACTS = join(import.meta.dirname, "../../build/test-artifacts");
/** A module importing "evil"."open_door": valid WebAssembly that the loader's policy must refuse. */
const EVIL_WASM = [0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 2, 18, 1, 4, 101, 118, 105, 108, 9, 111, 112, 101, 110, 95, 100, 111, 111, 114, 0, 0, 3, 2, 1, 0, 5, 3, 1, 0, 1, 7, 19, 2, 6, 95, 115, 116, 97, 114, 116, 0, 1, 6, 109, 101, 109, 111, 114, 121, 2, 0, 10, 4, 1, 2, 0, 11];

let server: WebServer;
let profile: Profile;
let browser: BrowserContext;

beforeAll(async () => {
  requireChromium();
  await buildWeb();
  server = await serveWeb({ port: 0 });
  profile = freshProfile();
  browser = await profile.open();
  browser.setDefaultTimeout(patience(45_000));
}, patience(60_000));

afterAll(async () => {
  await browser?.close();
  profile?.remove();
  await server?.close();
});

// A test that fails leaves its tab open, holding the disk: each test's tabs are closed after it,
// so one failure does not fail every later test with "the disk is open in another tab".
const opened = new Set<Page>();
afterEach(async () => {
  await Promise.all([...opened].map((page) => page.close()));
  opened.clear();
});

async function openPage(query = ""): Promise<Page> {
  const page = await browser.newPage();
  opened.add(page);
  await page.goto(`${server.url}${query}`);
  return page;
}

describe("Dogma in Chromium", () => {
  it("boots to the shell, runs commands (typed, pasted, ^C, ^D), shows their processes and how they ended, and brings a killed driver back", async () => {
    const page = await openPage();
    await waitForPrompt(page);
    expect(await probe(page, "bootInfo")).toMatchObject({ rewrittenModules: expect.any(Number) });
    expect(await run(page, "ls -p", /dogma:\/\$ $/)).toMatch(/^bin\/$/m);
    await run(page, "echo x > /f", /dogma:\/\$ $/);
    expect(await run(page, "cat /f", /dogma:\/\$ $/)).toMatch(/^x$/m);
    expect(await run(page, "ls -p / | cat", /dogma:\/\$ $/)).toMatch(/^etc\/$/m);
    expect(await run(page, "fault-null", /\$ $/)).toMatch(/^shell: fault-null \(pid \d+\) faulted: null-page at 0x0$/m);
    // A paste arrives as one chunk of typed input: two lines, two commands.
    const before = (await terminalText(page)).length;
    await paste(page, "echo pasted one\necho pasted two\n");
    expect(await waitForTerminal(page, /^pasted two$/m, before)).toMatch(/^pasted one\n(?:.*\n)*pasted two$/m);
    // The terminal fits its pane when the window changes.
    const wide = await page.evaluate(() => (window as unknown as { dogma: { terminalSize(): { cols: number } } }).dogma.terminalSize());
    await page.setViewportSize({ width: 1000, height: 700 });
    await page.waitForFunction((cols) => (window as unknown as { dogma: { terminalSize(): { cols: number } } }).dogma.terminalSize().cols < cols, wide.cols);
    await page.setViewportSize({ width: 1400, height: 860 });

    // A job that never yields: the views see it run, ^C ends it, the views see its end.
    await typeKeys(page, "spin\n");
    await waitForViews(page, "spin running", (live) => live.some((p) => p.name === "spin"));
    await focusTerminal(page);
    await page.keyboard.press("Control+C");
    await waitForTerminal(page, /\^C\n(?:.*\n)*dogma:\/ \[130\]\$ $/);
    await waitForViews(page, "the shell's jobs ended", (live, ended) =>
      !live.some((p) => p.name === "spin") &&
      ended.some((p) => p.name === "spin" && p.end === "killed (exit code 137)") &&
      ended.some((p) => p.name === "cat" && p.end === "exited with code 0") &&
      ended.some((p) => p.name === "fault-null" && p.end.startsWith("faulted: fault-null")),
    );

    // The capability view: click init's row.
    await page.click('#processes tbody tr[data-pid="1"]');
    await page.waitForFunction(() => document.querySelector("#caps-of")?.textContent?.startsWith("of pid 1 (init)"));
    expect(await page.locator("#caps tbody tr").first().textContent()).toContain("process 1 (init)");
    expect(await page.locator("#frames-legend").textContent()).toMatch(/free \d+.*kernel \d+.*private \d+/);
    await page.waitForFunction(() => Array.from(document.querySelectorAll("#ipc tbody tr")).some((r) => r.textContent?.includes("shell")));

    // Suspend and resume the log service; kill the timer driver: init restarts it, and sleeps work again.
    const log = (await liveProcesses(page)).find((p) => p.name === "log")!;
    await page.click(`#processes tbody tr[data-pid="${log.pid}"] button:has-text("suspend")`);
    await waitForViews(page, "log suspended", (live) => live.some((p) => p.pid === log.pid && p.state === "suspended"));
    await page.click(`#processes tbody tr[data-pid="${log.pid}"] button:has-text("resume")`);
    await waitForViews(page, "log resumed", (live) => live.some((p) => p.pid === log.pid && p.state !== "suspended"));
    const timer = (await liveProcesses(page)).find((p) => p.name === "timer")!;
    await page.click(`#processes tbody tr[data-pid="${timer.pid}"] button:has-text("kill")`);
    await page.waitForFunction((pid) => document.querySelector("#panel-answer")?.textContent === `kill ${pid}: done`, timer.pid);
    await waitForTerminal(page, new RegExp(`init: timer \\(pid ${timer.pid}\\) was killed \\(exit code 137\\); restarting in 100 ms\\n(?:.*\\n)*init: restarted timer \\(pid \\d+\\)`));
    await waitForViews(page, "a new timer", (live) => live.some((p) => p.name === "timer" && p.pid !== timer.pid));
    expect(await run(page, "sleeper 20", /\$ $/)).toMatch(/^slept$/m);
    // A job of the shell is not process 1's to stop: the panel says so.
    await typeKeys(page, "sleeper 60000 &\n");
    await waitForViews(page, "sleeper", (live) => live.some((p) => p.name === "sleeper"));
    const sleeper = (await liveProcesses(page)).find((p) => p.name === "sleeper")!;
    await page.click(`#processes tbody tr[data-pid="${sleeper.pid}"] button:has-text("kill")`);
    await page.waitForFunction((pid) => document.querySelector("#panel-answer")?.textContent?.startsWith(`kill ${pid}: E_NO_PROCESS`), sleeper.pid);
    // ^D at an empty prompt ends the session: process 1 halts the machine, as on Node.
    await focusTerminal(page);
    await page.keyboard.press("Control+D");
    await page.waitForFunction(() => document.querySelector("#notice h2")?.textContent === "The machine stopped");
    expect(await page.locator("#notice p").textContent()).toBe("process 1 halted the machine");
    await page.close();
  }, patience(60_000));

  it("keeps the disk across a reload, a reload in the middle of paging to it, and a halt; boots from the module cache", async () => {
    // Little memory, so memtest pages to /swap on the disk: the reload cuts that writing off.
    const page = await openPage("?memory=12");
    await waitForPrompt(page);
    expect((await probe(page, "bootInfo"))!.rewrittenModules).toBe(0);
    expect(await run(page, "cat /f", /\$ $/)).toMatch(/^x$/m);
    await typeKeys(page, "memtest\n");
    await page.waitForFunction(() => Number(/paged out (\d+)/.exec(document.querySelector("#frames-legend")?.textContent ?? "")?.[1] ?? 0) > 200, null, { timeout: patience(45_000) });
    await page.goto(server.url);
    await waitForPrompt(page);
    expect(await run(page, "cat /f", /\$ $/)).toMatch(/^x$/m);
    expect(await run(page, "ls -l /", /\$ $/)).toMatch(/ swap$/m);
    // The power button: process 1 halts cleanly, and the page offers to boot again.
    await page.click("#halt");
    await page.waitForFunction(() => document.querySelector("#notice h2")?.textContent === "The machine stopped");
    expect(await page.locator("#notice p").textContent()).toBe("process 1 halted the machine");
    expect(await waitForTerminal(page, /init: halt requested by the host\n/)).toBeTruthy();
    await page.click('#notice button:has-text("Boot again")');
    await waitForTerminal(page, /booting again(?:.*\n)*.*dogma:\/\$ /);
    expect(await run(page, "cat /f", /\$ $/)).toMatch(/^x$/m);
    await page.close();
  }, patience(60_000));

  it("keeps the disk in IndexedDB where asked (the store for browsers without OPFS)", async () => {
    const page = await openPage("?disk=idb");
    await waitForPrompt(page);
    expect(await page.locator("#disk-info").textContent()).toBe("disk: IndexedDB, 64 MiB, new");
    await run(page, "echo kept in indexeddb > /g", /\$ $/);
    await page.reload();
    await waitForPrompt(page);
    expect(await page.locator("#disk-info").textContent()).toBe("disk: IndexedDB, 64 MiB");
    expect(await run(page, "cat /g", /\$ $/)).toMatch(/^kept in indexeddb$/m);
    await page.close();
  }, patience(60_000));

  it("shows why the loader refuses a dropped binary, and runs one it accepts from /host", async () => {
    const page = await openPage();
    await waitForPrompt(page);
    await dropFiles(page, [{ name: "evil.wasm", bytes: EVIL_WASM }]);
    await page.waitForSelector("#notice:not([hidden])");
    expect(await page.locator("#notice h2").textContent()).toBe("The loader refused evil.wasm");
    expect(await page.locator("#notice p").textContent()).toMatch(/^refused: evil\.wasm: .*evil.*open_door/);
    await page.click("#notice button");
    const greet = [...readFileSync(join(import.meta.dirname, "../../build/user/greet.wasm"))];
    await dropFiles(page, [{ name: "greet.wasm", bytes: greet }]);
    await page.waitForFunction(() => document.querySelector("#notice h2")?.textContent === "greet.wasm loads");
    await page.click("#notice button");
    expect(await run(page, "ls /host", /\$ $/)).toMatch(/^evil\.wasm\n(?:.*\n)*greet\.wasm$/m);
    expect(await run(page, "/host/greet.wasm browser", /\$ $/)).toMatch(/^hello, browser$/m);
    await page.screenshot({ path: join(ARTIFACTS, "web-page.png") });
    await page.close();
  }, patience(60_000));

  it("downloads the disk in dogma boot's format and boots an uploaded one", async () => {
    const page = await openPage();
    await waitForPrompt(page);
    const download = page.waitForEvent("download");
    await page.click("#download-disk");
    const file = join(ARTIFACTS, "web-disk.img");
    await (await download).saveAs(file);
    const image = readFileSync(file);
    expect(image.length).toBe(64 << 20);
    expect(checkSuperblock(image.subarray(0, BLOCK_BYTES), image.length)).toEqual({ ok: true, fresh: false });

    await run(page, "echo after the download > /f", /\$ $/);
    await page.setInputFiles("#upload-disk", file);
    await page.click('#notice button:has-text("Replace and boot")');
    // The prompt, not the last line: a service's verbose line may follow it (the pager's did).
    await waitForTerminal(page, /booting the uploaded disk(?:.*\n)*.*dogma:\/\$ /);
    expect(await run(page, "cat /f", /\$ $/)).toMatch(/^x$/m);
    await page.close();
  }, patience(60_000));

  it("refuses a damaged disk with the reason and an offer to format it", async () => {
    // Every page of the origin is closed: any page of it can reach its private file system, and
    // writes a disk that is not one.
    const page = await openPage("boot/init.conf");
    await page.evaluate(async () => {
      const root = await navigator.storage.getDirectory();
      const file = await root.getFileHandle("dogma-disk.img", { create: true });
      // The last page's worker may hold the disk's lock a moment after its page closed.
      for (let tries = 0; ; tries++) {
        try {
          const writable = await file.createWritable();
          await writable.write(new TextEncoder().encode("not a file system, but somebody's data".padEnd(8 << 20, "!")));
          await writable.close();
          return;
        } catch (error) {
          if (tries === 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    });
    await page.goto(server.url);
    await page.waitForSelector("#notice:not([hidden])");
    expect(await page.locator("#notice h2").textContent()).toBe("The disk in this browser cannot be mounted");
    expect(await page.locator("#notice p").textContent()).toMatch(/^block 0 is not a Dogma superblock \(magic 0x[0-9a-f]+, not 0x[0-9a-f]+ "DOGMFS1"\)\. Dogma did not boot/);
    expect(await page.locator(".xterm").count()).toBe(1);
    // What is there can be kept before it goes: the refused disk downloads as it is.
    const download = page.waitForEvent("download");
    await page.click('#notice button:has-text("Download it first")');
    const kept = join(ARTIFACTS, "web-refused-disk.img");
    await (await download).saveAs(kept);
    expect(readFileSync(kept).subarray(0, 17).toString()).toBe("not a file system");
    await page.click('#notice button:has-text("Format the disk")');
    await waitForPrompt(page);
    expect(await run(page, "ls -p", /\$ $/)).toMatch(/^bin\/$/m);
    expect(await run(page, "cat /f", /\$ $/)).toMatch(/cat: \/f: /);
    await page.close();
  }, patience(60_000));

  it("tells a second tab that the disk is in use by the first", async () => {
    const first = await openPage();
    await waitForPrompt(first);
    const second = await openPage();
    await second.waitForFunction(() => document.querySelector("#notice h2")?.textContent === "Dogma stopped", null, { timeout: patience(20_000) });
    expect(await second.locator("#notice p").textContent()).toMatch(/^the disk is open in another tab of this page: close it, or use that one/);
    await second.close();
    expect(await run(first, "cat /f", /\$ $/)).toMatch(/cat: \/f: /);
    await first.close();
  });

  it("says plainly that a browser without JSPI cannot run Dogma", async () => {
    const page = await browser.newPage();
    opened.add(page);
    // Chromium 150 has no switch that turns JSPI off: take it away before the page's code runs,
    // as an engine without it (Firefox, Safari today) would look to the page.
    await page.addInitScript(() => {
      delete (WebAssembly as { Suspending?: unknown }).Suspending;
      delete (WebAssembly as { promising?: unknown }).promising;
    });
    await page.goto(server.url);
    await page.waitForSelector("#notice:not([hidden])");
    expect(await page.locator("#notice h2").textContent()).toBe("Dogma cannot run in this browser");
    expect(await page.locator("#notice p").textContent()).toMatch(/no WebAssembly JSPI .*Chromium and Chrome have it from version 137/);
    expect(await page.locator(".xterm").count()).toBe(0);
    await page.close();
  });
});

mkdirSync(ARTIFACTS, { recursive: true });
