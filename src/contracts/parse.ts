/**
 * The contract language's parser: text to a syntax tree with each element's line and column.
 * The grammar (docs/CONTRACTS.md):
 *
 *   contract  := "contract" NAME "{" state+ "}"
 *   state     := "state" NAME "{" (message (";" message)* ";"?)? "}"
 *   message   := NAME ("(" NUMBER ")")? ("?" | "!") shape* "->" NAME
 *   shape     := "words" NUMBER (".." NUMBER)?  |  "caps" "(" kind ("," kind)* ")"
 *   kind      := KIND "?"?        (an optional capability; optional ones come last)
 *
 * `//` starts a comment to the end of the line. Numbers are decimal or 0x hex.
 */

export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface MessageSyntax {
  readonly name: string;
  readonly label: number | null;
  readonly direction: "?" | "!";
  readonly words: { readonly min: number; readonly max: number; readonly at: Position } | null;
  readonly caps: { readonly kinds: readonly { name: string; optional: boolean; at: Position }[]; readonly at: Position } | null;
  readonly next: string;
  readonly nextAt: Position;
  readonly at: Position;
}

export interface StateSyntax {
  readonly name: string;
  readonly messages: readonly MessageSyntax[];
  readonly at: Position;
}

export interface ContractSyntax {
  readonly name: string;
  readonly states: readonly StateSyntax[];
  readonly at: Position;
}

/** A contract text that does not compile: what is wrong and where. */
export class ContractError extends Error {
  readonly line: number;
  readonly column: number;
  readonly reason: string;
  constructor(at: Position, reason: string, source = "contract") {
    super(`${source}:${at.line}:${at.column}: ${reason}`);
    this.line = at.line;
    this.column = at.column;
    this.reason = reason;
  }
}

interface Token {
  readonly kind: "name" | "number" | "punct" | "end";
  readonly text: string;
  readonly at: Position;
}

const PUNCTUATION = ["->", "..", "{", "}", "(", ")", ";", ",", "?", "!"];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    const at = { line, column: i - lineStart + 1 };
    if (text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 256));
    if (name) {
      tokens.push({ kind: "name", text: name[0], at });
      i += name[0].length;
      continue;
    }
    const number = /^(0x[0-9a-fA-F_]+|[0-9][0-9_]*)/.exec(text.slice(i, i + 64));
    if (number) {
      tokens.push({ kind: "number", text: number[0], at });
      i += number[0].length;
      continue;
    }
    const punct = PUNCTUATION.find((p) => text.startsWith(p, i));
    if (punct) {
      tokens.push({ kind: "punct", text: punct, at });
      i += punct.length;
      continue;
    }
    throw new ContractError(at, `unexpected character ${JSON.stringify(c)}`);
  }
  tokens.push({ kind: "end", text: "end of text", at: { line, column: i - lineStart + 1 } });
  return tokens;
}

/** Parses one contract; throws a ContractError naming the line and column of the first problem. */
export function parseContract(text: string): ContractSyntax {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const next = (): Token => tokens[pos++]!;
  const describe = (t: Token) => (t.kind === "end" ? "the end of the text" : `"${t.text}"`);
  const expectPunct = (p: string): Token => {
    const t = next();
    if (t.kind !== "punct" || t.text !== p) throw new ContractError(t.at, `expected "${p}", found ${describe(t)}`);
    return t;
  };
  const expectName = (what: string): Token => {
    const t = next();
    if (t.kind !== "name") throw new ContractError(t.at, `expected ${what}, found ${describe(t)}`);
    return t;
  };
  const expectNumber = (what: string): { value: number; at: Position } => {
    const t = next();
    if (t.kind !== "number") throw new ContractError(t.at, `expected ${what}, found ${describe(t)}`);
    const value = Number(t.text.replaceAll("_", ""));
    if (!Number.isSafeInteger(value) || value > 0xffff_ffff) throw new ContractError(t.at, `${t.text} is not a 32-bit number`);
    return { value, at: t.at };
  };
  const isPunct = (p: string) => peek().kind === "punct" && peek().text === p;

  const keyword = expectName(`"contract"`);
  if (keyword.text !== "contract") throw new ContractError(keyword.at, `expected "contract", found "${keyword.text}"`);
  const name = expectName("the contract's name");
  expectPunct("{");
  const states: StateSyntax[] = [];
  while (!isPunct("}")) {
    const stateWord = expectName(`"state" or "}"`);
    if (stateWord.text !== "state") throw new ContractError(stateWord.at, `expected "state" or "}", found "${stateWord.text}"`);
    const stateName = expectName("a state's name");
    expectPunct("{");
    const messages: MessageSyntax[] = [];
    while (!isPunct("}")) {
      messages.push(parseMessage());
      if (isPunct(";")) next();
      else if (!isPunct("}")) throw new ContractError(peek().at, `expected ";" or "}" after a message, found ${describe(peek())}`);
    }
    expectPunct("}");
    states.push({ name: stateName.text, messages, at: stateName.at });
  }
  expectPunct("}");
  if (peek().kind !== "end") throw new ContractError(peek().at, `one contract per text: found ${describe(peek())} after its end`);
  if (states.length === 0) throw new ContractError(name.at, `contract ${name.text} has no state`);
  return { name: name.text, states, at: name.at };

  function parseMessage(): MessageSyntax {
    const messageName = expectName("a message's name");
    let label: number | null = null;
    if (isPunct("(")) {
      next();
      label = expectNumber("a label").value;
      expectPunct(")");
    }
    const dir = next();
    if (dir.kind !== "punct" || (dir.text !== "?" && dir.text !== "!")) {
      throw new ContractError(dir.at, `expected "?" (to the server) or "!" (to the client) after ${messageName.text}, found ${describe(dir)}`);
    }
    let words: MessageSyntax["words"] = null;
    let caps: MessageSyntax["caps"] = null;
    while (peek().kind === "name") {
      const shape = next();
      if (shape.text === "words") {
        if (words) throw new ContractError(shape.at, `${messageName.text} says "words" twice`);
        const min = expectNumber("a word count");
        let max = min.value;
        if (isPunct("..")) {
          next();
          max = expectNumber("the largest word count").value;
        }
        words = { min: min.value, max, at: shape.at };
      } else if (shape.text === "caps") {
        if (caps) throw new ContractError(shape.at, `${messageName.text} says "caps" twice`);
        expectPunct("(");
        const kinds: { name: string; optional: boolean; at: Position }[] = [];
        do {
          if (kinds.length > 0) next();
          const kind = expectName("a capability kind");
          const optional = isPunct("?");
          if (optional) next();
          kinds.push({ name: kind.text, optional, at: kind.at });
        } while (isPunct(","));
        expectPunct(")");
        caps = { kinds, at: shape.at };
      } else {
        throw new ContractError(shape.at, `expected "words", "caps" or "->", found "${shape.text}"`);
      }
    }
    expectPunct("->");
    const target = expectName("the next state");
    return { name: messageName.text, label, direction: dir.text, words, caps, next: target.text, nextAt: target.at, at: messageName.at };
  }
}
