// Regular expressions as grep reads them: POSIX basic (BRE, grep's default) and extended (ERE,
// grep -E), with GNU's additions (\| \+ \? in BRE, \< \> \b \B \w \W \s \S, back-references
// \1-\9). Compiled to a small tree and matched by backtracking over a line; `search` finds the
// leftmost match, and with `longest` the longest one there (POSIX's rule, which grep -o shows).
// A budget of steps per line keeps a pathological pattern from running for ever: past it the
// line counts as not matching and `exhausted` says so.

const K_CHAR: i32 = 0;
const K_ANY: i32 = 1;
const K_SET: i32 = 2;
const K_START: i32 = 3;
const K_END: i32 = 4;
const K_GROUP: i32 = 5;
const K_REPEAT: i32 = 6;
const K_BACKREF: i32 = 7;
const K_WORD_START: i32 = 8;
const K_WORD_END: i32 = 9;
const K_WORD_EDGE: i32 = 10;
const K_NOT_WORD_EDGE: i32 = 11;

const STEP_BUDGET: i32 = 2_000_000;

class Node {
  c: i32 = 0;
  /** K_SET: ranges as pairs (lo, hi), and whether the set is negated. */
  ranges: i32[] = [];
  negated: bool = false;
  /** K_GROUP: its alternatives and capture index (0: none). */
  alternatives: Node[][] = [];
  index: i32 = 0;
  /** K_REPEAT. */
  body: Node | null = null;
  min: i32 = 0;
  max: i32 = -1;
  constructor(readonly kind: i32) {}
}

/** What a continuation does when the sequence it waits for has matched. */
const F_SEQ: i32 = 0;
const F_REPEAT: i32 = 1;
const F_CLOSE: i32 = 2;

class Frame {
  seq: Node[] = [];
  at: i32 = 0;
  node: Node | null = null;
  count: i32 = 0;
  start: i32 = 0;
  next: Frame | null = null;
  constructor(readonly kind: i32) {}
}

function isWordChar(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f || c >= 0xc0;
}

function lower(c: i32): i32 {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

function upper(c: i32): i32 {
  return c >= 0x61 && c <= 0x7a ? c - 32 : c;
}

class Compiler {
  at: i32 = 0;
  error: string = "";
  groups: i32 = 0;
  constructor(
    readonly p: string,
    readonly extended: bool,
  ) {}

  fail(why: string): void {
    if (this.error.length == 0) this.error = why;
  }

  private peek(offset: i32 = 0): i32 {
    return this.at + offset < this.p.length ? this.p.charCodeAt(this.at + offset) : -1;
  }

  /** Whether the next character(s) are the operator `op` ("|", "(", ")", "{", "+", "?"), written as this dialect writes it. */
  private isOp(op: i32): bool {
    if (this.extended) return this.peek() == op;
    return this.peek() == 0x5c && this.peek(1) == op;
  }

  private takeOp(): void {
    this.at += this.extended ? 1 : 2;
  }

  alternatives(): Node[][] {
    const alts = new Array<Node[]>();
    alts.push(this.sequence());
    while (this.error.length == 0 && this.isOp(0x7c)) {
      this.takeOp();
      alts.push(this.sequence());
    }
    return alts;
  }

  private sequence(): Node[] {
    const seq = new Array<Node>();
    while (this.error.length == 0 && this.at < this.p.length) {
      if (this.isOp(0x7c) || this.isOp(0x29)) break;
      const atom = this.atom(seq.length == 0);
      if (atom == null) continue;
      seq.push(this.repeats(atom!));
    }
    return seq;
  }

  private repeats(atom: Node): Node {
    let node = atom;
    for (;;) {
      const c = this.peek();
      let min = -1;
      let max = -1;
      if (c == 0x2a) {
        this.at++;
        min = 0;
      } else if (this.isOp(0x2b)) {
        this.takeOp();
        min = 1;
      } else if (this.isOp(0x3f)) {
        this.takeOp();
        min = 0;
        max = 1;
      } else if (this.isOp(0x7b)) {
        this.takeOp();
        min = this.number();
        max = min;
        if (this.peek() == 0x2c) {
          this.at++;
          max = this.peek() >= 0x30 && this.peek() <= 0x39 ? this.number() : -1;
        }
        if (this.extended ? this.peek() == 0x7d : this.peek() == 0x5c && this.peek(1) == 0x7d) this.at += this.extended ? 1 : 2;
        else {
          this.fail("unmatched \\{");
          return node;
        }
        if (min < 0 || (max >= 0 && max < min)) {
          this.fail("invalid content of \\{\\}");
          return node;
        }
      } else return node;
      const r = new Node(K_REPEAT);
      r.body = node;
      r.min = min;
      r.max = max;
      node = r;
    }
    return node;
  }

  private number(): i32 {
    let n = -1;
    while (this.peek() >= 0x30 && this.peek() <= 0x39) {
      n = (n < 0 ? 0 : n * 10) + (this.peek() - 0x30);
      this.at++;
    }
    return n;
  }

  private atom(first: bool): Node | null {
    const c = this.peek();
    if (c == 0x5e && (first || this.extended)) {
      this.at++;
      return new Node(K_START);
    }
    if (c == 0x24 && (this.extended || this.at + 1 == this.p.length || (this.peek(1) == 0x5c && (this.peek(2) == 0x29 || this.peek(2) == 0x7c)))) {
      this.at++;
      return new Node(K_END);
    }
    if (this.isOp(0x28)) {
      this.takeOp();
      const g = new Node(K_GROUP);
      g.index = ++this.groups;
      g.alternatives = this.alternatives();
      if (!this.isOp(0x29)) {
        this.fail("unmatched ( or \\(");
        return null;
      }
      this.takeOp();
      return g;
    }
    if (c == 0x2e) {
      this.at++;
      return new Node(K_ANY);
    }
    if (c == 0x5b) return this.bracket();
    if (c == 0x2a && first) {
      this.at++;
      return this.char(c);
    }
    if (this.extended && (c == 0x2a || c == 0x2b || c == 0x3f || c == 0x7b) && first) {
      this.at++;
      return this.char(c);
    }
    if (c == 0x5c) {
      const d = this.peek(1);
      this.at += 2;
      if (d < 0) {
        this.fail("trailing backslash (\\)");
        return null;
      }
      if (d >= 0x31 && d <= 0x39) {
        const b = new Node(K_BACKREF);
        b.index = d - 0x30;
        if (b.index > this.groups) this.fail("invalid back reference");
        return b;
      }
      if (d == 0x3c) return new Node(K_WORD_START);
      if (d == 0x3e) return new Node(K_WORD_END);
      if (d == 0x62) return new Node(K_WORD_EDGE);
      if (d == 0x42) return new Node(K_NOT_WORD_EDGE);
      if (d == 0x77 || d == 0x57) return this.classNode("alnum_", d == 0x57);
      if (d == 0x73 || d == 0x53) return this.classNode("space", d == 0x53);
      return this.char(d);
    }
    this.at++;
    return this.char(c);
  }

  private char(c: i32): Node {
    const n = new Node(K_CHAR);
    n.c = c;
    return n;
  }

  private classNode(name: string, negated: bool): Node {
    const n = new Node(K_SET);
    addClass(n.ranges, name);
    n.negated = negated;
    return n;
  }

  /** [...]: ranges, [:class:], a ] first is itself, ^ first negates. */
  private bracket(): Node {
    const n = new Node(K_SET);
    this.at++;
    if (this.peek() == 0x5e) {
      n.negated = true;
      this.at++;
    }
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c < 0) {
        this.fail("unmatched [, [^, [:, [., or [=");
        return n;
      }
      if (c == 0x5d && !first) {
        this.at++;
        return n;
      }
      first = false;
      if (c == 0x5b && this.peek(1) == 0x3a) {
        const close = this.p.indexOf(":]", this.at + 2);
        if (close < 0) {
          this.fail("unmatched [:");
          return n;
        }
        const name = this.p.slice(this.at + 2, close);
        if (!addClass(n.ranges, name)) this.fail("invalid character class");
        this.at = close + 2;
        continue;
      }
      this.at++;
      if (this.peek() == 0x2d && this.peek(1) != 0x5d && this.peek(1) >= 0) {
        const hi = this.peek(1);
        this.at += 2;
        if (hi < c) this.fail("invalid range end");
        n.ranges.push(c);
        n.ranges.push(hi);
      } else {
        n.ranges.push(c);
        n.ranges.push(c);
      }
    }
    return n;
  }
}

function range(r: i32[], lo: i32, hi: i32): void {
  r.push(lo);
  r.push(hi);
}

/** Adds a POSIX class's ranges; false for a name that is none. */
function addClass(r: i32[], name: string): bool {
  const before = r.length;
  const letters = name == "alpha" || name == "alnum" || name == "alnum_";
  if (letters || name == "upper") range(r, 0x41, 0x5a);
  if (letters || name == "lower") range(r, 0x61, 0x7a);
  if (name == "digit" || name == "alnum" || name == "alnum_" || name == "xdigit") range(r, 0x30, 0x39);
  if (name == "alnum_") range(r, 0x5f, 0x5f);
  if (name == "xdigit") {
    range(r, 0x41, 0x46);
    range(r, 0x61, 0x66);
  }
  if (name == "space") {
    range(r, 0x09, 0x0d);
    range(r, 0x20, 0x20);
  }
  if (name == "blank") {
    range(r, 0x09, 0x09);
    range(r, 0x20, 0x20);
  }
  if (name == "punct") {
    range(r, 0x21, 0x2f);
    range(r, 0x3a, 0x40);
    range(r, 0x5b, 0x60);
    range(r, 0x7b, 0x7e);
  }
  if (name == "print") range(r, 0x20, 0x7e);
  if (name == "graph") range(r, 0x21, 0x7e);
  if (name == "cntrl") {
    range(r, 0, 0x1f);
    range(r, 0x7f, 0x7f);
  }
  return r.length > before;
}

export class Regex {
  error: string = "";
  /** The last match: where it starts and ends (exclusive). */
  start: i32 = 0;
  end: i32 = 0;
  /** A line gave up: past the step budget. */
  exhausted: bool = false;
  private root: Node[][] = [];
  private captures: i32[] = [];
  private text: string = "";
  private steps: i32 = 0;
  private longest: bool = false;
  private best: i32 = -1;

  constructor(
    pattern: string,
    extended: bool,
    readonly ignoreCase: bool,
  ) {
    const c = new Compiler(pattern, extended);
    this.root = c.alternatives();
    if (c.error.length == 0 && c.at < pattern.length) c.fail(extended ? "unmatched )" : "unmatched \\)");
    this.error = c.error;
    this.captures = new Array<i32>(2 * (c.groups + 1)).fill(-1);
  }

  /** Finds the leftmost match in `text` from `from` (the longest there with `longest`): whether there is one (start, end). */
  search(text: string, from: i32 = 0, longest: bool = false): bool {
    this.text = text;
    this.longest = longest;
    this.steps = 0;
    this.exhausted = false;
    for (let s = from; s <= text.length; s++) {
      this.best = -1;
      this.captures.fill(-1);
      if (this.alternativesAt(this.root, s, null) || this.best >= 0) {
        this.start = s;
        this.end = this.best;
        return true;
      }
      if (this.steps > STEP_BUDGET) {
        this.exhausted = true;
        return false;
      }
    }
    return false;
  }

  private alternativesAt(alts: Node[][], pos: i32, cont: Frame | null): bool {
    for (let i = 0; i < alts.length; i++) if (this.match(alts[i], 0, pos, cont)) return true;
    return false;
  }

  /** The end of a whole match: accepted, or (looking for the longest) noted and refused, so that every path is tried. */
  private accept(pos: i32): bool {
    if (pos > this.best) this.best = pos;
    return !this.longest;
  }

  private resume(cont: Frame | null, pos: i32): bool {
    if (cont == null) return this.accept(pos);
    const f = cont!;
    if (f.kind == F_SEQ) return this.match(f.seq, f.at, pos, f.next);
    if (f.kind == F_CLOSE) {
      const group = f.node!;
      const saved = this.captures[2 * group.index + 1];
      const savedStart = this.captures[2 * group.index];
      this.captures[2 * group.index] = f.start;
      this.captures[2 * group.index + 1] = pos;
      if (this.resume(f.next, pos)) return true;
      this.captures[2 * group.index] = savedStart;
      this.captures[2 * group.index + 1] = saved;
      return false;
    }
    // F_REPEAT: one more round of the body has matched.
    return this.repeat(f.node!, f.count, pos, f.start, f.next);
  }

  /** A repetition whose body has matched `count` times, the last ending at `pos` (having begun at `last`). */
  private repeat(node: Node, count: i32, pos: i32, last: i32, cont: Frame | null): bool {
    // A round that matched nothing would repeat for ever: stop repeating there.
    const mayMore = (node.max < 0 || count < node.max) && !(count > 0 && pos == last);
    if (mayMore) {
      const f = new Frame(F_REPEAT);
      f.node = node;
      f.count = count + 1;
      f.start = pos;
      f.next = cont;
      if (this.one(node.body!, pos, f)) return true;
    }
    if (count >= node.min || (count > 0 && pos == last)) return this.resume(cont, pos);
    return false;
  }

  /** One node at `pos`, then `cont`. */
  private one(node: Node, pos: i32, cont: Frame | null): bool {
    const seq = [node];
    return this.match(seq, 0, pos, cont);
  }

  private match(seq: Node[], at: i32, pos: i32, cont: Frame | null): bool {
    if (++this.steps > STEP_BUDGET) return false;
    if (at == seq.length) return this.resume(cont, pos);
    const node = seq[at];
    const text = this.text;
    switch (node.kind) {
      case K_CHAR: {
        if (pos >= text.length) return false;
        const c = text.charCodeAt(pos);
        if (c != node.c && !(this.ignoreCase && lower(c) == lower(node.c))) return false;
        return this.match(seq, at + 1, pos + 1, cont);
      }
      case K_ANY:
        return pos < text.length && this.match(seq, at + 1, pos + 1, cont);
      case K_SET: {
        if (pos >= text.length) return false;
        if (!this.inSet(node, text.charCodeAt(pos))) return false;
        return this.match(seq, at + 1, pos + 1, cont);
      }
      case K_START:
        return pos == 0 && this.match(seq, at + 1, pos, cont);
      case K_END:
        return pos == text.length && this.match(seq, at + 1, pos, cont);
      case K_WORD_START:
        return this.wordBefore(pos) == false && this.wordAt(pos) && this.match(seq, at + 1, pos, cont);
      case K_WORD_END:
        return this.wordBefore(pos) && !this.wordAt(pos) && this.match(seq, at + 1, pos, cont);
      case K_WORD_EDGE:
        return this.wordBefore(pos) != this.wordAt(pos) && this.match(seq, at + 1, pos, cont);
      case K_NOT_WORD_EDGE:
        return this.wordBefore(pos) == this.wordAt(pos) && this.match(seq, at + 1, pos, cont);
      case K_BACKREF: {
        const s = this.captures[2 * node.index];
        const e = this.captures[2 * node.index + 1];
        if (s < 0 || e < 0) return false;
        const n = e - s;
        if (pos + n > text.length) return false;
        for (let k = 0; k < n; k++) {
          const a = text.charCodeAt(s + k);
          const b = text.charCodeAt(pos + k);
          if (a != b && !(this.ignoreCase && lower(a) == lower(b))) return false;
        }
        return this.match(seq, at + 1, pos + n, cont);
      }
      case K_GROUP: {
        const after = new Frame(F_SEQ);
        after.seq = seq;
        after.at = at + 1;
        after.next = cont;
        const close = new Frame(F_CLOSE);
        close.node = node;
        close.start = pos;
        close.next = after;
        return this.alternativesAt(node.alternatives, pos, close);
      }
      case K_REPEAT: {
        const after = new Frame(F_SEQ);
        after.seq = seq;
        after.at = at + 1;
        after.next = cont;
        return this.repeat(node, 0, pos, -1, after);
      }
    }
    return false;
  }

  private inSet(node: Node, c: i32): bool {
    let found = false;
    const r = node.ranges;
    for (let i = 0; i < r.length && !found; i += 2) {
      if (c >= r[i] && c <= r[i + 1]) found = true;
      else if (this.ignoreCase && ((lower(c) >= r[i] && lower(c) <= r[i + 1]) || (upper(c) >= r[i] && upper(c) <= r[i + 1]))) found = true;
    }
    return found != node.negated;
  }

  private wordBefore(pos: i32): bool {
    return pos > 0 && isWordChar(this.text.charCodeAt(pos - 1));
  }

  private wordAt(pos: i32): bool {
    return pos < this.text.length && isWordChar(this.text.charCodeAt(pos));
  }
}
