// A request copied out of the message buffer, which every kernel call (block I/O included)
// overwrites; and the reply built beside it: words, and the capabilities that go back. Every
// capability a request brings goes back in its reply, moved, whatever the status (as the block
// driver does): a Region lent for data or a path comes home.
import {
  msgLabel, msgBadge, msgWordCount, msgWord, msgCapCount, msgCap, msgBegin, msgAddWord, msgAddCap, msgInvoke,
  CAP_MOVE, MAX_DATA_WORDS, MAX_CAPS, OP_REGION_INFO, E_INVALID_CAP,
} from "../../lib";

export class Request {
  label: u32 = 0;
  badge: u32 = 0;
  wordCount: i32 = 0;
  capCount: i32 = 0;
  readonly words: StaticArray<u32> = new StaticArray<u32>(MAX_DATA_WORDS);
  readonly caps: StaticArray<i32> = new StaticArray<i32>(MAX_CAPS);

  /** Copies the message in the buffer. */
  capture(): void {
    this.label = msgLabel();
    this.badge = msgBadge();
    this.wordCount = min(msgWordCount(), MAX_DATA_WORDS);
    this.capCount = min(msgCapCount(), MAX_CAPS);
    for (let i = 0; i < this.wordCount; i++) unchecked((this.words[i] = msgWord(i)));
    for (let i = 0; i < this.capCount; i++) unchecked((this.caps[i] = msgCap(i)));
  }

  /** Word `i`, or 0 past the end. */
  @inline word(i: i32): u32 {
    return i < this.wordCount ? unchecked(this.words[i]) : 0;
  }

  word64(i: i32): u64 {
    return <u64>this.word(i) | (<u64>this.word(i + 1) << 32);
  }

  /** Address of word `i` in the copy: inline bytes are read from here. */
  wordsAddress(i: i32): usize {
    return changetype<usize>(this.words) + (<usize>i << 2);
  }
}

/** A Region a request brought, as REGION_INFO says (the message buffer is used). */
export class RegionArg {
  status: i32 = 0;
  address: usize = 0;
  bytes: u64 = 0;
  owner: bool = false;

  /**
   * Reads REGION_INFO of `cap`: 0, or E_INVALID_CAP / E_WRONG_TYPE, or E_MISSING_RIGHT for a
   * capability that does not map the range here (a filler narrowed to RIGHT_REGION_FILL, or one
   * with no rights left), or E_QUOTA: the kernel answers only a range mapped here in full, so
   * reading at the address it gives never faults.
   */
  inspect(cap: i32): i32 {
    if (cap <= 0) return (this.status = E_INVALID_CAP);
    msgBegin(OP_REGION_INFO);
    const status = msgInvoke(cap);
    if (status < 0) return (this.status = status);
    this.address = <usize>msgWord(0);
    this.bytes = <u64>msgWord(1) << 12;
    this.owner = msgWord(3) != 0;
    return (this.status = 0);
  }

  /** Whether `length` bytes at `offset` lie in the Region. */
  holds(offset: u32, length: u32): bool {
    return <u64>offset + <u64>length <= this.bytes;
  }
}

/** The reply: words and the capabilities to move to the caller. */
export class Reply {
  wordCount: i32 = 0;
  capCount: i32 = 0;
  readonly words: StaticArray<u32> = new StaticArray<u32>(MAX_DATA_WORDS);
  readonly caps: StaticArray<i32> = new StaticArray<i32>(MAX_CAPS + 1);

  reset(): void {
    this.wordCount = 0;
    this.capCount = 0;
  }

  add(word: u32): void {
    if (this.wordCount < MAX_DATA_WORDS) unchecked((this.words[this.wordCount++] = word));
  }

  add64(value: u64): void {
    this.add(<u32>value);
    this.add(<u32>(value >>> 32));
  }

  addCap(cap: i32): void {
    if (this.capCount <= MAX_CAPS) unchecked((this.caps[this.capCount++] = cap));
  }

  /** Address of word `i`: inline data is written here, then counted with `use`. */
  wordsAddress(i: i32): usize {
    return changetype<usize>(this.words) + (<usize>i << 2);
  }

  /** Counts `n` more words written through wordsAddress. */
  use(n: i32): void {
    this.wordCount = min(this.wordCount + n, MAX_DATA_WORDS);
  }

  /** Puts the reply in the message buffer (words only when `ok`). */
  build(ok: bool): void {
    msgBegin(0);
    if (ok) for (let i = 0; i < this.wordCount; i++) msgAddWord(unchecked(this.words[i]));
    for (let i = 0; i < this.capCount && i < MAX_CAPS; i++) msgAddCap(<u32>unchecked(this.caps[i]) | CAP_MOVE);
  }
}
