// dogma:runtime incremental
// sort [-rnufbs] [-t SEP] [-k KEY]... [-o FILE] [FILE]...: the lines of every FILE (standard
// input when none), sorted by their bytes as LC_ALL=C sort does, or by keys: -k N[,M] fields N to
// M (blanks separate fields, or -t SEP), -n as numbers, -f ignoring case, -b ignoring leading
// blanks, -r reversed; lines equal by their keys are ordered by their whole text unless -s; -u
// keeps one line of each run of equal keys.
import { args } from "../lib";
import { Options } from "../lib/options";
import { FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_TRUNCATE } from "../lib/fs-client";
import { Input } from "./tool-parts/input";
import { base, within, client, complain } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";
import { outLine, finish, flush } from "./tool-parts/output";

const o = new Options("sort", "[-rnufbs] [-t SEP] [-k KEY]... [-o FILE] [FILE]...", "Prints the lines of the FILEs (standard input when none or -) sorted, as LC_ALL=C sort does.")
  .flag("r", "reverse", "the largest first")
  .flag("n", "numeric-sort", "compare (leading) numbers")
  .flag("u", "unique", "print one line of each run of equal ones")
  .flag("f", "ignore-case", "compare upper and lower case as one")
  .flag("b", "ignore-leading-blanks", "ignore blanks before each key")
  .flag("s", "stable", "keep the input's order for equal keys")
  .value("t", "field-separator", "SEP", "fields are separated by SEP (not by runs of blanks)")
  .value("k", "key", "N[,M]", "sort by fields N to M (from 1; M the line's end when not given)")
  .value("o", "output", "FILE", "write to FILE")
  .parse(args());

class Key {
  start: i32 = 1;
  end: i32 = 0;
}

let reverse = o.given("r");
let numeric = o.given("n");
const unique = o.given("u");
const fold = o.given("f");
const blanks = o.given("b");
const stable = o.given("s");
const separator = o.get("t");
if (o.given("t") && separator.length != 1) o.usageError("the separator must be one character");
const keys = new Array<Key>();
const keySpecs = o.values("k");
for (let i = 0; i < keySpecs.length; i++) {
  const spec = keySpecs[i];
  const k = new Key();
  const comma = spec.indexOf(",");
  const first = trimOptions(comma < 0 ? spec : spec.slice(0, comma));
  const last = comma < 0 ? "" : trimOptions(spec.slice(comma + 1));
  k.start = I32.parseInt(first);
  k.end = last.length > 0 ? I32.parseInt(last) : 0;
  if (k.start < 1 || (last.length > 0 && k.end < k.start)) o.usageError("invalid key: " + spec);
  keys.push(k);
}

/** A key's field number without the letters a key may carry (1n, 2r): they set the options for the whole sort. */
function trimOptions(field: string): string {
  let digits = "";
  for (let i = 0; i < field.length; i++) {
    const c = field.charAt(i);
    if (c >= "0" && c <= "9") digits += c;
    else if (c == "n") numeric = true;
    else if (c == "r") reverse = true;
    else if (c == ".") break; // a character position: fields only here
  }
  return digits;
}

function isBlank(c: i32): bool {
  return c == 0x20 || c == 0x09;
}

/** The start of field `n` (from 1) of `line`, or its length. */
function fieldStart(line: string, n: i32): i32 {
  let at = 0;
  for (let f = 1; f < n; f++) {
    if (separator.length > 0) {
      const next = line.indexOf(separator, at);
      if (next < 0) return line.length;
      at = next + 1;
    } else {
      while (at < line.length && isBlank(line.charCodeAt(at))) at++;
      while (at < line.length && !isBlank(line.charCodeAt(at))) at++;
    }
  }
  return at;
}

function fieldEnd(line: string, n: i32): i32 {
  const start = fieldStart(line, n);
  if (separator.length > 0) {
    const next = line.indexOf(separator, start);
    return next < 0 ? line.length : next;
  }
  let at = start;
  while (at < line.length && isBlank(line.charCodeAt(at))) at++;
  while (at < line.length && !isBlank(line.charCodeAt(at))) at++;
  return at;
}

function keyText(line: string, k: Key): string {
  const start = fieldStart(line, k.start);
  const end = k.end > 0 ? fieldEnd(line, k.end) : line.length;
  return end > start ? line.slice(start, end) : "";
}

/** The leading number of `s` (blanks, a sign, digits, a fraction); 0 for none. */
function leadingNumber(s: string): f64 {
  let i = 0;
  while (i < s.length && isBlank(s.charCodeAt(i))) i++;
  const start = i;
  if (i < s.length && s.charAt(i) == "-") i++;
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  if (i < s.length && s.charAt(i) == ".") {
    i++;
    while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  }
  const text = s.slice(start, i);
  if (text.length == 0 || text == "-" || text == "." || text == "-.") return 0;
  return F64.parseFloat(text);
}

function compareText(a: string, b: string): i32 {
  if (blanks) {
    let i = 0;
    while (i < a.length && isBlank(a.charCodeAt(i))) i++;
    let j = 0;
    while (j < b.length && isBlank(b.charCodeAt(j))) j++;
    a = a.slice(i);
    b = b.slice(j);
  }
  if (fold) {
    a = a.toUpperCase();
    b = b.toUpperCase();
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKey(a: string, b: string): i32 {
  if (numeric) {
    const x = leadingNumber(a);
    const y = leadingNumber(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return compareText(a, b);
}

/** The lines' order by their keys only (0: equal keys). */
function compareKeys(a: string, b: string): i32 {
  if (keys.length == 0) return compareKey(a, b);
  for (let i = 0; i < keys.length; i++) {
    const c = compareKey(keyText(a, keys[i]), keyText(b, keys[i]));
    if (c != 0) return c;
  }
  return 0;
}

class Line {
  constructor(
    readonly text: string,
    readonly index: i32,
  ) {}
}

function compareLines(a: Line, b: Line): i32 {
  let c = compareKeys(a.text, b.text);
  // The last resort: the whole line's bytes (none with -s or -u).
  if (c == 0 && !stable && !unique) c = a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
  if (reverse) c = -c;
  if (c == 0) c = a.index - b.index;
  return c;
}

const files = o.operands.length > 0 ? o.operands : ["-"];
const all = new Array<Line>();
let failed = false;
for (let i = 0; i < files.length; i++) {
  const input = new Input(files[i]);
  if (input.failed("sort")) {
    failed = true;
    continue;
  }
  for (let line = input.line(); line != null; line = input.line()) all.push(new Line(line!, all.length));
  input.close();
}
if (failed) finish(2);
all.sort(compareLines);
if (o.given("o")) {
  // -o FILE: standard output becomes the file, opened after everything was read (sort -o f f works).
  const path = o.get("o");
  const fs = client();
  const h = fs.open(base(path), within(path), FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE);
  if (h < 0) {
    complain("sort", visible(path), h);
    finish(2);
  }
  let offset: u64 = 0;
  const ready = fs.prepare(); // the buffer the lines are written from
  if (ready < 0) {
    complain("sort", visible(path), ready);
    finish(2);
  }
  for (let i = 0; i < all.length; i++) {
    if (unique && i > 0 && compareKeys(all[i - 1].text, all[i].text) == 0) continue;
    const bytes = String.UTF8.encode(all[i].text + "\n");
    memory.copy(fs.address, changetype<usize>(bytes), <usize>bytes.byteLength);
    const w = fs.write(h, offset, <u32>bytes.byteLength);
    if (w < 0) {
      complain("sort", visible(path), w);
      finish(2);
    }
    offset += <u64>bytes.byteLength;
  }
  fs.sync(h);
  fs.close(h);
  finish(0);
}
for (let i = 0; i < all.length; i++) {
  if (unique && i > 0 && compareKeys(all[i - 1].text, all[i].text) == 0) continue;
  outLine(all[i].text);
}
flush();
finish(0);
