import { type CompiledContract, type CompiledMessage, compileContract } from "./compile.ts";
import { tableDigest } from "./digest.ts";

/**
 * Generates the AssemblyScript module of a contract (user/lib/contracts/<name>.ts), which
 * libdogma's programs use instead of bare labels:
 *
 * - `<Name>` — a class of label constants, one per message name;
 * - `<name>Attach(receiver)` — RECEIVER_SET_CONTRACT with the table, built into the binary;
 * - one class per state, `<Name><State>`, whose static methods are exactly the messages that
 *   state allows: `begin<Message>()` starts one in the message buffer, `<message>(cap)` sends
 *   or calls it (a `?`) or answers a call with it (`reply<Message>(reply)`, a `!`). A program that
 *   writes `LogReading.write(...)` does not compile: Reading allows no Write. The kernel checks the
 *   same table at run time, so code that goes around the wrappers is refused there (E_CONTRACT).
 *
 * Nothing here allocates: the methods are static, so the log, which serves for ever on the stub
 * runtime, can use them.
 */
export function generateAssemblyScript(text: string, source: string): string {
  const compiled = compileContract(text, source);
  return render(compiled, source);
}

function render(c: CompiledContract, source: string): string {
  const name = c.name;
  const lower = name[0]!.toLowerCase() + name.slice(1);
  const names = [...new Map(c.messages.map((m) => [m.name, m.label])).entries()];
  const lines: string[] = [];
  lines.push(`// Generated from ${source} by src/contracts/generate-assemblyscript.ts (npm run build): do not edit.`);
  lines.push(`// The contract's text is the source; docs/CONTRACTS.md says how to read it.`);
  // The generated module's imports, relative to user/lib/contracts/ (quoted apart, so that
  // test/architecture.test.ts does not read them as this file's own imports).
  lines.push(`import { msgBegin, msgSetLabel, msgSetRecv, msgAddWord, msgInvoke } from ${JSON.stringify("../message")};`);
  lines.push(`import { OP_RECEIVER_SET_CONTRACT } from ${JSON.stringify("../abi")};`);
  lines.push("");
  lines.push(`/** The labels of contract ${name}'s messages. */`);
  lines.push(`export class ${name} {`);
  for (const [message, label] of names) lines.push(`  static readonly ${message}: u32 = ${label};`);
  lines.push(`  /** The contract's identity (src/contracts/digest.ts): its name and the digest of its table. */`);
  lines.push(`  static readonly DIGEST: string = "${name}@${tableDigest(c.table)}";`);
  lines.push(`}`);
  lines.push("");
  lines.push(`const TABLE: usize = memory.data<u32>([${[...c.table].map((w) => `0x${w.toString(16)}`).join(", ")}]);`);
  lines.push("");
  lines.push(`/** Gives the Receiver \`receiver\` (with RECEIVER_MINT) contract ${name}, before any send or call capability to it exists: the status. */`);
  lines.push(`export function ${lower}Attach(receiver: i32): i32 {`);
  lines.push(`  msgBegin(OP_RECEIVER_SET_CONTRACT);`);
  lines.push(`  msgAddWord(<u32>TABLE);`);
  lines.push(`  msgAddWord(${4 * c.table.length});`);
  lines.push(`  return msgInvoke(receiver);`);
  lines.push(`}`);
  for (const state of c.states) {
    const messages = c.messages.filter((m) => m.from === state);
    lines.push("");
    lines.push(`/** State ${state} of contract ${name}: ${messages.length === 0 ? "it allows no message" : `it allows ${messages.map(signature).join(", ")}`}. */`);
    lines.push(`export class ${name}${state} {`);
    for (const m of messages) {
      const verb = m.direction === "?" ? (c.contract.allows(c.states.indexOf(m.next), 1) ? "call" : "send") : "reply";
      lines.push(`  /** Starts ${signature(m)} in the message buffer: add its words and capabilities, then ${verb} it. */`);
      lines.push(`  @inline static begin${m.name}(): void {`);
      lines.push(`    msgBegin(${m.label});`);
      lines.push(`  }`);
      if (m.direction === "?") {
        lines.push(`  /** ${verb === "call" ? "Calls" : "Sends"} the message in the buffer as ${m.name} through \`cap\`; ${verb === "call" ? `the reply, one that state ${m.next} allows, replaces it` : `then the channel is in state ${m.next}`}. The status. */`);
        lines.push(`  @inline static ${lowerFirst(m.name)}(cap: i32): i32 {`);
      } else {
        lines.push(`  /** Answers the call whose reply capability is \`reply\` with the message in the buffer as ${m.name}; then the channel is in state ${m.next}. The status. */`);
        lines.push(`  @inline static reply${m.name}(reply: i32): i32 {`);
        lines.push(`    const cap = reply;`);
        lines.push(`    msgSetRecv(0);`);
      }
      lines.push(`    msgSetLabel(${m.label});`);
      lines.push(`    return msgInvoke(cap);`);
      lines.push(`  }`);
    }
    lines.push(`}`);
  }
  lines.push("");
  return lines.join("\n");
}

function signature(m: CompiledMessage): string {
  const words = m.minWords === m.maxWords ? `${m.minWords}` : `${m.minWords}..${m.maxWords}`;
  const caps = m.capKinds.length > 0 ? ` caps(${m.capKinds.map((k, i) => (i >= m.minCaps ? `${k}?` : k)).join(", ")})` : "";
  return `${m.name}${m.direction} words ${words}${caps} -> ${m.next}`;
}

function lowerFirst(s: string): string {
  return s[0]!.toLowerCase() + s.slice(1);
}
