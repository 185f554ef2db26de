// edit, the full-screen editor, through a pseudo-terminal as a person uses it: open a new file,
// type, save, quit; the file holds what was typed; open it again, change a line, quit saying yes
// to saving, and the change is on the disk; a second quit without changes asks nothing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TerminalSession } from "../helpers/terminal-session.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-editor-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const PROMPT = "dogma:/$ ";

describe("edit", () => {
  it("opens a file, takes what is typed, saves it, and shows it again when reopened", async () => {
    const s = new TerminalSession(["boot", "--disk", join(work, "disk.img")], { DOGMA_CACHE_DIR: join(work, "cache") });
    try {
      let at = await s.waitFor(PROMPT);
      s.type("edit notes.txt\r");
      at = await s.waitFor(/edit {2}notes\.txt[^]*new file/, at);
      s.type("hello from the editor\rsecond line");
      at = await s.waitFor("second line", at);
      s.type("\x13"); // ^S saves
      at = await s.waitFor("wrote 2 lines", at);
      s.type("\x11"); // ^Q quits: nothing unsaved, nothing asked
      at = await s.waitFor(PROMPT, at);
      s.type("cat notes.txt\r");
      at = await s.waitFor("cat notes.txt\nhello from the editor\nsecond line\n" + PROMPT, at);

      s.type("edit notes.txt\r");
      at = await s.waitFor(/read 2 lines/, at);
      expect(s.output.slice(at - 2000)).toContain("hello from the editor");
      s.type("\x1b[B\x1b[F changed"); // down, End, typed
      at = await s.waitFor("(modified)", at);
      s.type("\x11");
      at = await s.waitFor("save the changes before leaving?", at);
      s.type("y\r");
      at = await s.waitFor(PROMPT, at);
      s.type("cat notes.txt\r");
      at = await s.waitFor("hello from the editor\nsecond line changed\n" + PROMPT, at);
      // The terminal is the shell's again: cooked lines, echoed.
      s.type("echo done\r");
      at = await s.waitFor("echo done\ndone\n", at);
      s.type("exit\r");
      expect(await s.exit(10_000)).toBe(0);
    } finally {
      s.kill();
    }
  }, patience(120_000));
});
