import { constants } from "node:fs";
import { FdFile } from "./fd-file.ts";
import { errnoText } from "./host-errors.ts";

/** A file the host refused to read, with one line that says why. */
export class HostFileError extends Error {
  /** The file is larger than the limit (the loader would refuse it too). */
  readonly tooLarge: boolean;
  constructor(message: string, tooLarge = false) {
    super(message);
    this.tooLarge = tooLarge;
  }
}

/**
 * Reads a whole regular file of at most `limit` bytes, never more (`what` names it in the message): it looks at the file before
 * reading, so `/dev/zero`, a FIFO or a 10 GB file is refused at once instead of filling the host's
 * memory (opened non-blocking, so a FIFO without a writer does not hang the open either).
 */
export async function readBoundedFile(path: string, limit: number, what = path): Promise<Uint8Array> {
  let file: FdFile;
  try {
    file = await FdFile.open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new HostFileError(`cannot read ${what}: ${errnoText(error)}`);
  }
  try {
    const info = await file.stat();
    if (info.isDirectory()) throw new HostFileError(`cannot read ${what}: it is a folder`);
    if (!info.isFile()) throw new HostFileError(`cannot read ${what}: it is not a regular file`);
    if (info.size > limit) throw new HostFileError(`cannot read ${what}: its ${info.size} bytes are more than the ${limit} bytes it may have`, true);
    const out = new Uint8Array(info.size);
    let at = 0;
    while (at < out.length) {
      const { bytesRead } = await file.read(out, at, out.length - at, at);
      if (bytesRead === 0) break; // it shrank meanwhile: what is there
      at += bytesRead;
    }
    return out.subarray(0, at);
  } catch (error) {
    if (error instanceof HostFileError) throw error;
    throw new HostFileError(`cannot read ${what}: ${errnoText(error)}`);
  } finally {
    await file.close();
  }
}
