// $((expression)): integer arithmetic as POSIX sh has it, on 64-bit integers. Numbers (decimal,
// 0x hex, 0 octal), variables by name (unset or empty: 0), ( ), unary + - ! ~, * / %, + -, << >>,
// < <= > >=, == !=, &, ^, |, &&, ||, ?:, and the assignments = += -= *= /= %=. Division by zero
// is an error, not a fault.
import { ExpansionHost } from "./expand";

export class ArithmeticResult {
  value: i64 = 0;
  error: string = "";
}

/** Levels of ( ), unary operators, assignments and ?: inside one another: the evaluator recurses through them. */
const MAX_DEPTH: i32 = 64;

class Evaluator {
  at: i32 = 0;
  error: string = "";
  private depth: i32 = 0;

  constructor(
    readonly text: string,
    readonly host: ExpansionHost,
  ) {}

  fail(why: string): i64 {
    if (this.error.length == 0) this.error = why;
    return 0;
  }

  private blanks(): void {
    while (this.at < this.text.length) {
      const c = this.text.charCodeAt(this.at);
      if (c != 0x20 && c != 0x09 && c != 0x0a) break;
      this.at++;
    }
  }

  /** Takes `op` if it comes next (and is not the start of a longer operator in `not`). */
  private eat(op: string, not: string = ""): bool {
    this.blanks();
    if (!this.text.startsWith(op, this.at)) return false;
    if (not.length > 0 && this.text.startsWith(not, this.at)) return false;
    this.at += op.length;
    return true;
  }

  expression(): i64 {
    return this.assignment();
  }

  private assignment(): i64 {
    if (this.depth == MAX_DEPTH) return this.tooDeep();
    this.depth++;
    const value = this.assignmentAt();
    this.depth--;
    return value;
  }

  /** Without a bound, 3000 ( or 20,000 - used up the engine's stack and the shell faulted. */
  private tooDeep(): i64 {
    this.at = this.text.length;
    return this.fail("nested too deep (at most " + MAX_DEPTH.toString() + " levels)");
  }

  private assignmentAt(): i64 {
    this.blanks();
    const save = this.at;
    const name = this.name();
    if (name.length > 0) {
      this.blanks();
      const ops = ["+=", "-=", "*=", "/=", "%=", "="];
      for (let i = 0; i < ops.length; i++) {
        if (!this.text.startsWith(ops[i], this.at) || this.text.startsWith("==", this.at)) continue;
        this.at += ops[i].length;
        const right = this.assignment();
        const left = this.valueOf(name);
        let result = right;
        const op = ops[i];
        if (op == "+=") result = left + right;
        else if (op == "-=") result = left - right;
        else if (op == "*=") result = left * right;
        else if (op == "/=" || op == "%=") {
          if (right == 0) return this.fail("division by zero");
          result = op == "/=" ? left / right : left % right;
        }
        this.host.setVariable(name, result.toString());
        return result;
      }
    }
    this.at = save;
    return this.conditional();
  }

  private conditional(): i64 {
    const c = this.binary(0);
    if (!this.eat("?")) return c;
    const a = this.assignment();
    if (!this.eat(":")) return this.fail("expected ':'");
    const b = this.assignment();
    return c != 0 ? a : b;
  }

  /** Binary operators by precedence level, lowest first. */
  private binary(level: i32): i64 {
    if (level == 10) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const op = this.operator(level);
      if (op.length == 0) return left;
      const right = this.binary(level + 1);
      left = this.apply(op, left, right);
    }
    return left;
  }

  private operator(level: i32): string {
    switch (level) {
      case 0: return this.eat("||") ? "||" : "";
      case 1: return this.eat("&&") ? "&&" : "";
      case 2: return this.eat("|", "||") && !this.text.startsWith("=", this.at) ? "|" : "";
      case 3: return this.eat("^") ? "^" : "";
      case 4: return this.eat("&", "&&") ? "&" : "";
      case 5: return this.eat("==") ? "==" : this.eat("!=") ? "!=" : "";
      case 6: return this.eat("<=") ? "<=" : this.eat(">=") ? ">=" : this.eat("<", "<<") ? "<" : this.eat(">", ">>") ? ">" : "";
      case 7: return this.eat("<<") ? "<<" : this.eat(">>") ? ">>" : "";
      case 8: return this.eat("+", "+=") ? "+" : this.eat("-", "-=") ? "-" : "";
      case 9: return this.eat("*", "*=") ? "*" : this.eat("/", "/=") ? "/" : this.eat("%", "%=") ? "%" : "";
    }
    return "";
  }

  private apply(op: string, a: i64, b: i64): i64 {
    if (op == "||") return a != 0 || b != 0 ? 1 : 0;
    if (op == "&&") return a != 0 && b != 0 ? 1 : 0;
    if (op == "|") return a | b;
    if (op == "^") return a ^ b;
    if (op == "&") return a & b;
    if (op == "==") return a == b ? 1 : 0;
    if (op == "!=") return a != b ? 1 : 0;
    if (op == "<") return a < b ? 1 : 0;
    if (op == "<=") return a <= b ? 1 : 0;
    if (op == ">") return a > b ? 1 : 0;
    if (op == ">=") return a >= b ? 1 : 0;
    if (op == "<<") return a << (b & 63);
    if (op == ">>") return a >> (b & 63);
    if (op == "+") return a + b;
    if (op == "-") return a - b;
    if (op == "*") return a * b;
    if (b == 0) return this.fail("division by zero");
    if (op == "/") return a == i64.MIN_VALUE && b == -1 ? a : a / b;
    return a == i64.MIN_VALUE && b == -1 ? 0 : a % b;
  }

  private unary(): i64 {
    if (this.depth == MAX_DEPTH) return this.tooDeep();
    this.depth++;
    const value = this.unaryAt();
    this.depth--;
    return value;
  }

  private unaryAt(): i64 {
    if (this.eat("!", "!=")) return this.unary() == 0 ? 1 : 0;
    if (this.eat("~")) return ~this.unary();
    if (this.eat("-", "-=")) return -this.unary();
    if (this.eat("+", "+=")) return this.unary();
    return this.primary();
  }

  private primary(): i64 {
    this.blanks();
    if (this.eat("(")) {
      const v = this.expression();
      if (!this.eat(")")) return this.fail("expected ')'");
      return v;
    }
    const name = this.name();
    if (name.length > 0) return this.valueOf(name);
    return this.number();
  }

  private name(): string {
    const start = this.at;
    while (this.at < this.text.length) {
      const c = this.text.charCodeAt(this.at);
      const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
      if (!letter && !(this.at > start && c >= 0x30 && c <= 0x39)) break;
      this.at++;
    }
    return this.text.slice(start, this.at);
  }

  private number(): i64 {
    const start = this.at;
    while (this.at < this.text.length && isAlnum(this.text.charCodeAt(this.at))) this.at++;
    const digits = this.text.slice(start, this.at);
    if (digits.length == 0) return this.fail(this.at >= this.text.length ? "expression expected" : "unexpected '" + this.text.charAt(this.at) + "'");
    const n = parseInteger(digits);
    if (n.error.length > 0) return this.fail(n.error);
    return n.value;
  }

  /** A variable's value as a number (unset or empty: 0). */
  private valueOf(name: string): i64 {
    const text = this.host.variable(name);
    if (text == null || text!.trim().length == 0) return 0;
    const n = parseInteger(text!.trim());
    if (n.error.length > 0) return this.fail(name + "=" + text! + " is not a number");
    return n.value;
  }
}

function isAlnum(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** A decimal, 0x hexadecimal or 0 octal integer, with an optional sign. */
export function parseInteger(text: string): ArithmeticResult {
  const out = new ArithmeticResult();
  let s = text;
  let negative = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    negative = s.startsWith("-");
    s = s.slice(1);
  }
  let base = 10;
  if (s.startsWith("0x") || s.startsWith("0X")) {
    base = 16;
    s = s.slice(2);
  } else if (s.length > 1 && s.startsWith("0")) base = 8;
  if (s.length == 0) {
    out.error = "'" + text + "' is not a number";
    return out;
  }
  let v: i64 = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let d = -1;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
    if (d < 0 || d >= base) {
      out.error = "'" + text + "' is not a number";
      return out;
    }
    v = v * base + d;
  }
  out.value = negative ? -v : v;
  return out;
}

export function evaluateArithmetic(text: string, host: ExpansionHost): ArithmeticResult {
  const e = new Evaluator(text, host);
  const out = new ArithmeticResult();
  const trimmed = text.trim();
  if (trimmed.length == 0) return out;
  out.value = e.expression();
  let rest = e.at;
  while (rest < text.length && (text.charCodeAt(rest) == 0x20 || text.charCodeAt(rest) == 0x09 || text.charCodeAt(rest) == 0x0a)) rest++;
  if (e.error.length == 0 && rest < text.length) e.error = "unexpected '" + text.charAt(rest) + "'";
  out.error = e.error;
  return out;
}
