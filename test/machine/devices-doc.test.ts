import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Block } from "../../src/machine/devices/block.ts";
import { FOLDER_FLAGS_REGISTER, FolderOp } from "../../src/machine/devices/host-folder.ts";
import { Queue } from "../../src/machine/devices/queue-device.ts";
import { Header, RegisterError } from "../../src/machine/devices/registers.ts";
import { RequestStatus } from "../../src/machine/devices/request-status.ts";
import { RtcTimer } from "../../src/machine/devices/rtc-timer.ts";
import { Power } from "../../src/machine/devices/power.ts";
import { Uart } from "../../src/machine/devices/uart.ts";

/** docs/DEVICES.md is what drivers are written against: its tables must say what the code does. */
const doc = readFileSync(join(import.meta.dirname, "../../docs/DEVICES.md"), "utf8");

function section(title: string): string {
  const start = doc.indexOf(`## ${title}`);
  expect(start, title).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf("\n## ", start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** `| 9, 10 | \`CAPACITY\` | …` rows: name → first word. */
function registerRows(text: string): Map<string, number> {
  const rows = new Map<string, number>();
  for (const match of text.matchAll(/^\| (\d+)[^|]* \| `(\w+)` \|/gm)) rows.set(match[2]!, Number(match[1]));
  return rows;
}

describe("docs/DEVICES.md", () => {
  const tables: Array<[string, Record<string, number>]> = [
    ["The header", Header],
    ["Console UART", Uart],
    ["Request queues", Queue],
    ["Block", Block],
    ["Timer/RTC", RtcTimer],
    ["Power", Power],
  ];

  for (const [title, registers] of tables) {
    it(`lists every register of ${title} at its word`, () => {
      const rows = registerRows(section(title));
      expect(Object.fromEntries(rows)).toEqual(registers);
    });
  }

  it("numbers the register errors and request statuses as the code does", () => {
    for (const [name, value] of Object.entries(RegisterError)) expect(doc, name).toContain(`${value} \`${name}\``);
    for (const [name, value] of Object.entries(RequestStatus)) expect(doc, name).toContain(`${value} \`${name}\``);
  });

  it("lists every host folder operation with its number, and its flags register", () => {
    const text = section("Host folder (kind 6");
    const ops = [...text.matchAll(/^\| (\d+) \| `(\w+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
    expect(Object.fromEntries(ops)).toEqual(FolderOp);
    expect(text).toContain(`word ${FOLDER_FLAGS_REGISTER} \`FLAGS\``);
  });
});
