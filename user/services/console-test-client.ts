// A console driver client for the tests (test/drivers/console.test.ts): it answers each line it
// reads with what it got, through the driver, and does what some lines ask:
//   raw      switch to raw mode, read 4 bytes as typed, report them in hex, switch back
//   fg       become the foreground (a Receiver of its own hears ^C), wait for one ^C
//   err TEXT write TEXT to the error stream
//   info     report the driver's INFO
//   check    send the driver malformed requests and report each answer
// At the end of input it says "eof" and exits 0.
// Config: service tester console-test-client memory=64   (slot 3: a Memory for its Receiver)
import { eprint, errorName, exit, Memory, Receiver, RIGHT_RECEIVER_SEND, CAP_MOVE, msgLabel, msgWord, check} from "../lib";
import {
  ConsoleClient, CONSOLE_INFO, CONSOLE_INTERRUPTED, CONSOLE_MODE_RAW, CONSOLE_READ, CONSOLE_WRITE, CONSOLE_SET_MODE,
  CONSOLE_FOREGROUND, consoleStatus,
} from "../lib/console-client";
import { msgBegin, msgAddWord, msgAddCap, msgInvoke } from "../lib/message";
import { STREAM_INFO } from "../lib/streams";

const MEMORY: i32 = 3;
const console = new ConsoleClient();
const buffer = memory.data(256);

function say(s: string): void {
  check("console-test-client", "write", console.writeString(s + "\n"));
}

function hex(n: i32): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    const b = load<u8>(buffer + <usize>i);
    s += (i > 0 ? " " : "") + (b < 16 ? "0" : "") + b.toString(16);
  }
  return s;
}

function raw(): void {
  check("console-test-client", "set raw mode", console.setMode(CONSOLE_MODE_RAW));
  say("raw on");
  let got = 0;
  while (got < 4) {
    const n = check("console-test-client", "read raw", console.read(buffer + <usize>got, <u32>(4 - got)));
    if (n == 0) break;
    got += n;
  }
  say("raw bytes: " + hex(got));
  check("console-test-client", "set cooked mode", console.setMode(0));
}

function foreground(): void {
  const notices = new Receiver(check("console-test-client", "create a Receiver", new Memory(MEMORY).createReceiver(4)));
  check("console-test-client", "set the foreground", console.setForeground(<u32>check("console-test-client", "mint", notices.mint(0, RIGHT_RECEIVER_SEND)) | CAP_MOVE));
  say("waiting for ^C");
  check("console-test-client", "receive", notices.receive());
  say(msgLabel() == CONSOLE_INTERRUPTED ? "interrupted" : "label " + msgLabel().toString());
  check("console-test-client", "clear the foreground", console.setForeground(0));
}

/** Calls the driver with `label` and `words` (and `cap`, if any): the status its reply stands for. */
function ask(label: u32, words: StaticArray<u32>, cap: u32 = 0): string {
  msgBegin(label);
  for (let i = 0; i < words.length; i++) msgAddWord(words[i]);
  if (cap != 0) msgAddCap(cap);
  const status = msgInvoke(console.service);
  return errorName(status < 0 ? status : consoleStatus(msgLabel()));
}

function malformed(): void {
  say("check: read of 0 bytes: " + ask(CONSOLE_READ, [0]));
  say("check: read of 253 bytes: " + ask(CONSOLE_READ, [253]));
  say("check: read without words: " + ask(CONSOLE_READ, []));
  say("check: write longer than its words: " + ask(CONSOLE_WRITE, [9, 0x41414141]));
  say("check: write with unknown flags: " + ask(CONSOLE_WRITE, [0x20001, 0x41]));
  say("check: mode 4: " + ask(CONSOLE_SET_MODE, [4]));
  say("check: label 99: " + ask(99, []));
  const page = check("console-test-client", "create a Page", new Memory(MEMORY).createPage());
  say("check: a Page as the foreground: " + ask(CONSOLE_FOREGROUND, [], <u32>page));
  say("check: no foreground: " + ask(CONSOLE_FOREGROUND, []));
  say("check: write of 3 bytes: " + ask(CONSOLE_WRITE, [3, 0x0a4b4f]));
  // The driver would have written this one (it dropped what a WRITE brought): contract Console
  // refuses it, so "QZX" must never reach the console.
  say("check: write bringing a capability: " + ask(CONSOLE_WRITE, [4, 0x0a585a51], <u32>page));
  say("check: stream info: " + ask(STREAM_INFO, []) + " kind " + msgWord(0).toString());
}

check("console-test-client", "connect", console.connect());
say("console-test-client: ready");
for (;;) {
  const n = check("console-test-client", "read", console.read(buffer, 200));
  if (n == 0) break;
  const text = String.UTF8.decodeUnsafe(buffer, <usize>n);
  const line = text.endsWith("\n") ? text.slice(0, text.length - 1) : text;
  if (line == "raw") raw();
  else if (line == "fg") foreground();
  else if (line.startsWith("err ")) check("console-test-client", "write errors", console.writeString(line.slice(4) + "\n", true));
  else if (line == "info") {
    msgBegin(CONSOLE_INFO);
    check("console-test-client", "info", msgInvoke(console.service));
    say("info: mode " + msgWord(0).toString() + " ready " + msgWord(1).toString() + " readers " + msgWord(2).toString() + " ended " + msgWord(3).toString());
  } else if (line == "check") malformed();
  else say("got " + n.toString() + ": " + line);
}
say("eof");
exit(0);
