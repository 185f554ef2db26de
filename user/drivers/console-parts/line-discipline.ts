// The console's line discipline: what typing means before a program reads it (docs/DRIVERS.md
// "Console driver"). Cooked mode collects a line in the edit buffer, with echo, erase (backspace,
// ^U the line, ^W a word) and ^C; Enter or ^D makes it a *record* that a READ can take. Raw mode
// hands every byte over as it comes, unechoed.
//
// Ready input is a ring of bytes plus a ring of record ends. A READ takes at most one record
// (so a cooked read returns at most one line); an empty record is an end of input (^D on an
// empty line), read as 0 bytes once. Bytes after the last record end came in raw mode and are
// read as they are.
//
// Invariants: tail <= every record end <= head (free-running u32 positions); head - tail <=
// READY_BYTES; the driver feeds a byte only while `hasRoom`, which leaves room for a whole edit
// buffer and one more record end, so committing a line never fails.
//
// Nothing allocates after construction.

export const EDIT_BYTES: u32 = 1024;
const READY_BYTES: u32 = 8192;
const MAX_RECORDS: u32 = 256;
const ECHO_BYTES: u32 = 8192;

/** The mode bits (user/lib/console-client.ts CONSOLE_MODE_*). */
export const MODE_RAW: u32 = 1;
export const MODE_NO_ECHO: u32 = 2;

/** What `input` reports beyond filling buffers. */
export const INPUT_NOTHING: i32 = 0;
export const INPUT_INTERRUPT: i32 = 1;
/** ^Z: the foreground should stop (job control). */
export const INPUT_SUSPEND: i32 = 2;

// Static buffers: there is one console, so one line discipline.
const edit: usize = memory.data(<i32>EDIT_BYTES);
const ready: usize = memory.data(<i32>READY_BYTES);
const echo: usize = memory.data(<i32>ECHO_BYTES);

const BACKSPACE: u8 = 0x08;
const DELETE: u8 = 0x7f;
const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const CTRL_Z: u8 = 0x1a;
const CTRL_U: u8 = 0x15;
const CTRL_W: u8 = 0x17;
const TAB: u8 = 0x09;
const NEWLINE: u8 = 0x0a;
const RETURN: u8 = 0x0d;
const BELL: u8 = 0x07;
const SPACE: u8 = 0x20;

export class LineDiscipline {
  mode: u32 = 0;
  /** The host's input has ended: once ready input runs out, every READ answers 0. */
  ended: bool = false;
  private editLength: u32 = 0;
  private head: u32 = 0;
  private tail: u32 = 0;
  private readonly records: StaticArray<u32> = new StaticArray<u32>(MAX_RECORDS);
  private firstRecord: u32 = 0;
  private recordCount: u32 = 0;
  /** What to echo, gathered for the driver to transmit in one go. */
  readonly echo: usize = echo;
  echoLength: u32 = 0;
  /** Where the last `take` started, so that `giveBack` can undo it (its reader had gone). */
  private takenFrom: u32 = 0;
  private takenRecord: bool = false;

  /** Whether the driver may feed another byte (see the invariants). */
  get hasRoom(): bool {
    return READY_BYTES - (this.head - this.tail) > EDIT_BYTES && this.recordCount < MAX_RECORDS;
  }

  /** Whether the echo buffer should be sent before more input is fed. */
  get echoNearlyFull(): bool {
    return this.echoLength > ECHO_BYTES - 6 * EDIT_BYTES;
  }

  /** Bytes a READ could take now, records and raw bytes together (an end of input counts 0). */
  get readyBytes(): u32 {
    return this.head - this.tail;
  }

  /** Whether a READ would be answered now (with bytes, or with an end of input). */
  get readable(): bool {
    return this.recordCount > 0 || this.head != this.tail || this.ended;
  }

  /** One byte typed. Returns INPUT_INTERRUPT for a ^C, INPUT_SUSPEND for a ^Z, the foreground should hear of. */
  input(byte: u8): i32 {
    if (this.mode & MODE_RAW) {
      this.putReady(byte);
      return INPUT_NOTHING;
    }
    switch (byte) {
      case RETURN:
      case NEWLINE:
        this.say(NEWLINE);
        this.append(NEWLINE);
        this.commit();
        return INPUT_NOTHING;
      case BACKSPACE:
      case DELETE:
        this.eraseCharacter();
        return INPUT_NOTHING;
      case CTRL_U:
        while (this.editLength > 0) this.eraseCharacter();
        return INPUT_NOTHING;
      case CTRL_W:
        while (this.editLength > 0 && load<u8>(edit + this.editLength - 1) == SPACE) this.eraseCharacter();
        while (this.editLength > 0 && load<u8>(edit + this.editLength - 1) != SPACE) this.eraseCharacter();
        return INPUT_NOTHING;
      case CTRL_C:
        this.sayControl(CTRL_C);
        this.say(NEWLINE);
        this.editLength = 0;
        this.flushReady();
        return INPUT_INTERRUPT;
      case CTRL_D:
        this.commit();
        return INPUT_NOTHING;
      case CTRL_Z:
        this.sayControl(CTRL_Z);
        this.say(NEWLINE);
        this.editLength = 0;
        return INPUT_SUSPEND;
    }
    // The line is full: keep room for its newline, and ring the bell instead.
    if (this.editLength >= EDIT_BYTES - 1) {
      this.say(BELL);
      return INPUT_NOTHING;
    }
    if (byte < SPACE && byte != TAB) this.sayControl(byte);
    else this.say(byte);
    this.append(byte);
    return INPUT_NOTHING;
  }

  /** The host's input ended: what was typed without Enter becomes the last record. */
  end(): void {
    if (this.ended) return;
    if (this.editLength > 0) this.commit();
    this.ended = true;
  }

  /**
   * Changes mode. Leaving cooked mode hands the half-typed line over as raw bytes, and drops the
   * echo not yet sent: a raw reader shows what it reads itself (the shell's line editor), so
   * typeahead is shown once, not twice.
   */
  setMode(mode: u32): u32 {
    const before = this.mode;
    if ((mode & MODE_RAW) != 0 && (before & MODE_RAW) == 0) {
      for (let i: u32 = 0; i < this.editLength; i++) this.putReady(load<u8>(edit + i));
      this.editLength = 0;
      this.echoLength = 0;
    }
    this.mode = mode;
    return before;
  }

  /**
   * After leaving raw mode: whether a ^C came among the raw bytes nobody read (typed in the same
   * burst as the Enter that ended a raw reader's line). Then it counts as typed now, in cooked
   * mode: what was typed before it is thrown away, and the caller tells the foreground.
   */
  takeRawInterrupt(): bool {
    if (this.mode & MODE_RAW) return false;
    const from = this.recordCount > 0 ? unchecked(this.records[(this.firstRecord + this.recordCount - 1) % MAX_RECORDS]) : this.tail;
    for (let at = from; at != this.head; at++) {
      if (load<u8>(ready + (at % READY_BYTES)) != CTRL_C) continue;
      this.sayControl(CTRL_C);
      this.say(NEWLINE);
      this.flushReady();
      return true;
    }
    return false;
  }

  /**
   * Takes at most `max` (> 0) bytes of ready input to `to`: the count, 0 for an end of input, or
   * -1 when there is nothing yet.
   */
  take(to: usize, max: u32): i32 {
    this.takenFrom = this.tail;
    this.takenRecord = false;
    let available = this.head - this.tail;
    if (this.recordCount > 0) {
      const end = unchecked(this.records[this.firstRecord]);
      available = end - this.tail;
      if (available == 0) {
        this.popRecord();
        this.takenRecord = true;
        return 0;
      }
    }
    if (available == 0) return this.ended ? 0 : -1;
    const n = min(available, max);
    for (let i: u32 = 0; i < n; i++) store<u8>(to + i, load<u8>(ready + ((this.tail + i) % READY_BYTES)));
    this.tail += n;
    if (this.recordCount > 0 && this.tail == unchecked(this.records[this.firstRecord])) {
      this.popRecord();
      this.takenRecord = true;
    }
    return <i32>n;
  }

  /**
   * Undoes the last `take`, nothing having changed since: its reader had gone (killed while it
   * waited), so the input goes to the next reader instead of being lost.
   */
  giveBack(): void {
    this.tail = this.takenFrom;
    if (this.takenRecord) {
      this.firstRecord = (this.firstRecord + MAX_RECORDS - 1) % MAX_RECORDS;
      this.recordCount++;
      this.takenRecord = false;
    }
  }

  clearEcho(): void {
    this.echoLength = 0;
  }

  private append(byte: u8): void {
    store<u8>(edit + this.editLength, byte);
    this.editLength++;
  }

  /** The edit buffer becomes a record (an empty one is an end of input). */
  private commit(): void {
    for (let i: u32 = 0; i < this.editLength; i++) this.putReady(load<u8>(edit + i));
    this.editLength = 0;
    unchecked((this.records[(this.firstRecord + this.recordCount) % MAX_RECORDS] = this.head));
    this.recordCount++;
  }

  private popRecord(): void {
    this.firstRecord = (this.firstRecord + 1) % MAX_RECORDS;
    this.recordCount--;
  }

  private putReady(byte: u8): void {
    store<u8>(ready + (this.head % READY_BYTES), byte);
    this.head++;
  }

  /** ^C throws away what was typed and not yet read, as a terminal does on an interrupt. */
  private flushReady(): void {
    this.tail = this.head;
    this.recordCount = 0;
  }

  /** Erases the last character (all bytes of a UTF-8 sequence) and rubs it out on the screen. */
  private eraseCharacter(): void {
    if (this.editLength == 0) return;
    let byte = load<u8>(edit + this.editLength - 1);
    this.editLength--;
    while ((byte & 0xc0) == 0x80 && this.editLength > 0) {
      byte = load<u8>(edit + this.editLength - 1);
      this.editLength--;
      if ((byte & 0xc0) != 0x80) break;
    }
    const width = byte < SPACE && byte != TAB ? 2 : 1; // a control character shows as ^X
    for (let i = 0; i < width; i++) {
      this.say(BACKSPACE);
      this.say(SPACE);
      this.say(BACKSPACE);
    }
  }

  private sayControl(byte: u8): void {
    this.say(0x5e); // ^
    this.say(byte + 0x40);
  }

  private say(byte: u8): void {
    if (this.mode & MODE_NO_ECHO) return;
    if (this.echoLength >= ECHO_BYTES) return;
    store<u8>(echo + this.echoLength, byte);
    this.echoLength++;
  }
}
