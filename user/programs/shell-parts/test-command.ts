// test EXPRESSION and [ EXPRESSION ]: POSIX's test. Files: -e -f -d -s -r -w -x -h -L (looked at
// through the shell's file system: what exists can be read, a file can be written unless it is in
// /host, and a program can run if it is a file); strings: -z -n = != and a lone string; numbers:
// -eq -ne -lt -le -gt -ge; ! ( ) -a -o. Status 0 true, 1 false, 2 a bad expression.
import { FS_RIGHT_READ, FS_KIND_FILE, FS_KIND_DIR, FS_KIND_SYMLINK, FS_OPEN_NOFOLLOW } from "../../lib/fs-client";
import { ShellFiles, isHostPath } from "./shell-files";
import { parseInteger } from "./arith";

class TestParser {
  at: i32 = 0;
  error: string = "";
  constructor(
    readonly args: string[],
    readonly files: ShellFiles,
  ) {}

  fail(why: string): bool {
    if (this.error.length == 0) this.error = why;
    return false;
  }

  get more(): bool {
    return this.at < this.args.length;
  }

  peek(offset: i32 = 0): string {
    return this.at + offset < this.args.length ? this.args[this.at + offset] : "";
  }

  or(): bool {
    let v = this.and();
    while (this.more && this.peek() == "-o") {
      this.at++;
      const right = this.and();
      v = v || right;
    }
    return v;
  }

  and(): bool {
    let v = this.not();
    while (this.more && this.peek() == "-a") {
      this.at++;
      const right = this.not();
      v = v && right;
    }
    return v;
  }

  not(): bool {
    if (this.more && this.peek() == "!" && this.at + 1 < this.args.length) {
      this.at++;
      return !this.not();
    }
    return this.primary();
  }

  primary(): bool {
    if (!this.more) return this.fail("argument expected");
    const a = this.peek();
    const binary = this.at + 2 < this.args.length && isBinary(this.peek(1));
    if (a == "(" && !binary) {
      // ( EXPR ), unless "(" is the left operand of a binary operator.
      this.at++;
      const v = this.or();
      if (this.peek() != ")") return this.fail("')' expected");
      this.at++;
      return v;
    }
    if (binary) {
      const left = this.args[this.at];
      const op = this.args[this.at + 1];
      const right = this.args[this.at + 2];
      this.at += 3;
      return this.binary(left, op, right);
    }
    if (isUnary(a) && this.at + 1 < this.args.length) {
      this.at += 2;
      return this.unary(a, this.args[this.at - 1]);
    }
    this.at++;
    return a.length > 0;
  }

  binary(left: string, op: string, right: string): bool {
    if (op == "=" || op == "==") return left == right;
    if (op == "!=") return left != right;
    if (op == "<") return left < right;
    if (op == ">") return left > right;
    const a = parseInteger(left.trim());
    const b = parseInteger(right.trim());
    if (a.error.length > 0) return this.fail(left + ": integer expected");
    if (b.error.length > 0) return this.fail(right + ": integer expected");
    if (op == "-eq") return a.value == b.value;
    if (op == "-ne") return a.value != b.value;
    if (op == "-lt") return a.value < b.value;
    if (op == "-le") return a.value <= b.value;
    if (op == "-gt") return a.value > b.value;
    return a.value >= b.value;
  }

  unary(op: string, operand: string): bool {
    if (op == "-z") return operand.length == 0;
    if (op == "-n") return operand.length > 0;
    if (operand.length == 0) return false;
    const nofollow = op == "-h" || op == "-L";
    const handle = this.files.open(operand, FS_RIGHT_READ | (nofollow ? FS_OPEN_NOFOLLOW : 0));
    if (handle < 0) return false;
    const client = this.files.client;
    const kind = client.kind;
    let size: u64 = client.size;
    client.close(handle);
    if (op == "-e" || op == "-r") return true;
    if (op == "-f") return kind == FS_KIND_FILE;
    if (op == "-d") return kind == FS_KIND_DIR;
    if (op == "-h" || op == "-L") return kind == FS_KIND_SYMLINK;
    if (op == "-s") return size > 0;
    if (op == "-w") return !isHostPath(this.files.resolve(operand));
    if (op == "-x") return kind == FS_KIND_FILE || kind == FS_KIND_DIR;
    return false;
  }
}

function isBinary(op: string): bool {
  return op == "=" || op == "==" || op == "!=" || op == "<" || op == ">" || op == "-eq" || op == "-ne" || op == "-lt" || op == "-le" || op == "-gt" || op == "-ge";
}

function isUnary(op: string): bool {
  return op == "-z" || op == "-n" || op == "-e" || op == "-f" || op == "-d" || op == "-s" || op == "-r" || op == "-w" || op == "-x" || op == "-h" || op == "-L";
}

/** Evaluates test's arguments: 0 true, 1 false, 2 an error (in `error`). */
export class TestResult {
  status: i32 = 0;
  error: string = "";
}

export function test(args: string[], files: ShellFiles): TestResult {
  const result = new TestResult();
  if (args.length == 0) {
    result.status = 1;
    return result;
  }
  const p = new TestParser(args, files);
  // POSIX's rules by argument count keep "test -n" and "test !" meaning what they say.
  let value: bool;
  if (args.length == 1) value = args[0].length > 0;
  else if (args.length == 2 && args[0] == "!") value = args[1].length == 0;
  else if (args.length == 2 && isUnary(args[0])) value = p.unary(args[0], args[1]);
  else if (args.length == 3 && isBinary(args[1])) value = p.binary(args[0], args[1], args[2]);
  else {
    value = p.or();
    if (p.error.length == 0 && p.more) p.error = p.peek() + ": unexpected operator";
  }
  if (p.error.length > 0) {
    result.status = 2;
    result.error = p.error;
    return result;
  }
  result.status = value ? 0 : 1;
  return result;
}
