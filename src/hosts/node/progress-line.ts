/**
 * A progress bar on one line of a terminal, shown only once the work has taken more than a
 * second (a boot from a warm cache prints nothing). On a pipe it prints plain lines instead.
 */
const DELAY_MS = 1000;
const WIDTH = 24;

export class ProgressLine {
  private readonly out: NodeJS.WriteStream;
  private readonly label: string;
  private timer: NodeJS.Timeout | null = null;
  private shown = false;
  private last = "";

  constructor(out: NodeJS.WriteStream, label: string) {
    this.out = out;
    this.label = label;
  }

  update(item: string, index: number, count: number): void {
    const filled = Math.round((index / count) * WIDTH);
    this.last = `${this.label} [${"#".repeat(filled)}${" ".repeat(WIDTH - filled)}] ${index}/${count} ${item}`;
    if (this.shown) return this.render();
    // Nothing yet: the bar appears if the work is still going in a second.
    this.timer ??= setTimeout(() => this.render(), DELAY_MS).unref();
  }

  /** Ends the bar's line (if one was shown), so that the next output starts clean. */
  done(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.shown && this.out.isTTY) this.out.write("\r\x1b[K");
    this.shown = false;
  }

  private render(): void {
    this.shown = true;
    if (this.out.isTTY) this.out.write(`\r\x1b[K${this.last}`);
    else this.out.write(`${this.last}\n`);
  }
}
