// Program manifests (docs/MANIFESTS.md): the grammar as the build reads it, the custom section,
// the manifests shipped beside the system's programs and the binaries that carry them.
import { existsSync, globSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { modulesOf, startedOnly } from "../../src/boot/config-modules.ts";
import { MANIFEST_SECTION, ManifestError, contractsCompatible, manifestTextOf, parseManifest, withContractDigests, withManifestSection } from "../../src/boot/manifest.ts";
import { program } from "../helpers/programs.ts";
// @ts-expect-error: the build's own module, plain JavaScript
import { contractDigests, embedManifest } from "../../scripts/manifest-section.mjs";

const root = join(import.meta.dirname, "../..");

const FS = `# a comment
name     fs
version  1.2.3
kind     service
memory   1024 8192   # need, limit
provides fs FileSystem shared
cap      boot-modules
needs    block BlockDevice@0123abcd
needs    host FileSystem shared optional
cap      pager=16
pin      2
`;

function why(text: string): string {
  try {
    parseManifest(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return (error as Error).message;
  }
  throw new Error("it parsed");
}

describe("the manifest grammar", () => {
  it("reads every kind of line; slots come in the order of their lines", () => {
    const m = parseManifest(FS);
    expect(m).toMatchObject({ name: "fs", version: "1.2.3", kind: "service", memoryPages: 1024, memoryLimit: 8192, pin: 2, pagerPages: 16 });
    expect(m.provides).toEqual([{ service: "fs", contract: { name: "FileSystem", digest: "" }, shared: true, optional: false, line: 6 }]);
    expect(m.needs.map((n) => [n.service, n.contract.name, n.contract.digest, n.shared, n.optional])).toEqual([
      ["block", "BlockDevice", "0123abcd", false, false],
      ["host", "FileSystem", "", true, true],
    ]);
    expect(m.slots).toEqual([
      { grant: "memory=8192", line: 5 },
      { grant: "publish=fs", line: 6 },
      { grant: "boot-modules", line: 7 },
      { grant: "use=host", line: 9 },
      { grant: "pager=16", line: 10 },
    ]);
  });

  it("gives the pager the file system's swap door alone: `shared swap` is the grant swap= (redteam11)", () => {
    const m = parseManifest("name p\nversion 1\nkind service\nneeds fs FileSystem shared swap\n");
    expect(m.slots).toEqual([{ grant: "swap=fs", line: 4 }]);
  });

  it("gives a service that only reads a shared service's read-only slot: `shared read` is the grant read= (redteam9)", () => {
    const m = parseManifest("name r\nversion 1\nkind service\nneeds fs FileSystem shared read optional\nneeds host FileSystem shared\n");
    expect(m.slots).toEqual([
      { grant: "read=fs", line: 4 },
      { grant: "use=host", line: 5 },
    ]);
    expect(m.needs.map((n) => [n.service, n.shared, n.optional])).toEqual([
      ["fs", true, true],
      ["host", true, false],
    ]);
  });

  it("refuses what is not a manifest, naming the line", () => {
    const head = "name x\nversion 1\nkind driver\n";
    expect(why("")).toBe("no name line");
    expect(why("name x\nkind program\n")).toBe("no version line");
    expect(why("name x\nversion 1\n")).toBe("no kind line");
    expect(why("name X\n")).toBe('line 1: "X" is not a program name (a-z, 0-9 and -, at most 32 bytes)');
    expect(why(`name ${"a".repeat(33)}\n`)).toContain("at most 32 bytes");
    expect(why("name x\nname y\n")).toBe("line 2: a second name line");
    expect(why("name x\nversion one\n")).toBe('line 2: "one" is not a version (1, 1.2 or 1.2.3)');
    expect(why("name x\nversion 1\nkind daemon\n")).toBe('line 3: unknown kind "daemon" (program, service or driver)');
    expect(why(`${head}memory lots\n`)).toBe("line 4: memory lots is not a number of pages");
    expect(why(`${head}memory 64 32\n`)).toBe("line 4: memory limit 32 is not a number of pages at least 64");
    expect(why(`${head}device console\ndevice console\n`)).toBe("line 5: device console is named twice");
    expect(why(`${head}needs fs\n`)).toBe("line 4: expected: needs SERVICE CONTRACT [shared [read|swap]] [optional]");
    expect(why(`${head}needs fs FileSystem read\n`)).toBe('line 4: unexpected "read" (shared, read or swap after shared, or optional)');
    expect(why(`${head}needs fs FileSystem shared read read\n`)).toBe('line 4: unexpected "read" (shared, read or swap after shared, or optional)');
    expect(why(`${head}needs fs FileSystem shared read swap\n`)).toBe('line 4: unexpected "swap" (shared, read or swap after shared, or optional)');
    expect(why(`${head}needs fs FileSystem swap\n`)).toBe('line 4: unexpected "swap" (shared, read or swap after shared, or optional)');
    expect(why(`${head}provides fs FileSystem shared read\n`)).toBe('line 4: unexpected "read" (shared)');
    expect(why(`${head}needs fs filesystem\n`)).toBe('line 4: "filesystem" is not a contract (a name such as BlockDevice, maybe @ and its digest in hex)');
    expect(why(`${head}needs fs FileSystem@xyz\n`)).toContain("is not a contract");
    expect(why(`${head}provides fs FileSystem optional\n`)).toBe('line 4: unexpected "optional" (shared)');
    expect(why(`${head}provides fs A\nprovides fs B\n`)).toBe("line 5: provides fs twice");
    expect(why(`${head}cap everything\n`)).toBe(
      'line 4: unknown capability "everything" (kernel, kernel-info, images, bootinfo, control, boot-modules, log-channel, supervise, session, streams, job-memory, cwd, root, host, registry or pager=PAGES)',
    );
    expect(why(`${head}cap kernel\ncap kernel\n`)).toBe("line 5: cap kernel is asked twice");
    expect(why(`${head}pin 3\n`)).toBe("line 4: pin 3 is not 0, 1 or 2");
    expect(why(`${head}colour blue\n`)).toBe('line 4: unknown line "colour" (name, version, kind, memory, device, interrupt, provides, needs, cap or pin)');
    expect(why("name x\nversion 1\nkind program\ndevice block\n")).toBe("a program drives no device: only a driver may name one");
    expect(why(`# ${"x".repeat(5000)}\n`)).toBe("5003 bytes, more than a manifest may have (4096)");
  });

  it("decides contract compatibility in one place: names alike, digests alike where both are given", () => {
    const c = (name: string, digest = "") => ({ name, digest });
    expect(contractsCompatible(c("Pipe"), c("Pipe"))).toBe(true);
    expect(contractsCompatible(c("Pipe"), c("Stream"))).toBe(false);
    expect(contractsCompatible(c("Pipe", "0123abcd"), c("Pipe"))).toBe(true);
    expect(contractsCompatible(c("Pipe", "0123abcd"), c("Pipe", "0123abcd"))).toBe(true);
    expect(contractsCompatible(c("Pipe", "0123abcd"), c("Pipe", "ffffffff"))).toBe(false);
  });
});

describe("contract digests", () => {
  const digests = new Map([["Log", "Log@0123456789abcdef"]]);

  it("the build writes each known contract's digest into the manifest it embeds; lines keep their numbers", () => {
    const text = "name x\nversion 1\nkind program\nneeds log Log   # the log\nneeds pipe Pipe\nprovides  out\tLog shared\n";
    const built = withContractDigests(text, digests);
    expect(built).toBe("name x\nversion 1\nkind program\nneeds log Log@0123456789abcdef   # the log\nneeds pipe Pipe\nprovides  out\tLog@0123456789abcdef shared\n");
    const m = parseManifest(built);
    expect(m.needs.map((n) => `${n.contract.name}@${n.contract.digest}@${n.line}`)).toEqual(["Log@0123456789abcdef@4", "Pipe@@5"]);
    expect(withContractDigests(text, new Map())).toBe(text);
    expect(withContractDigests("needs log Log@0123456789abcdef\n", digests)).toBe("needs log Log@0123456789abcdef\n");
  });

  it("a digest the manifest gives that is not the contract's now fails the build", () => {
    expect(() => withContractDigests("name x\nneeds log Log@ffffffffffffffff\n", digests)).toThrow(
      "line 2: contract Log is Log@0123456789abcdef now; the manifest says Log@ffffffffffffffff",
    );
  });
});

describe("the dogma.manifest section", () => {
  it("goes first, replaces one already there, and leaves the rest of the binary as it was", () => {
    const hello = program("hello");
    const once = withManifestSection(hello, "name a\nversion 1\nkind program\n");
    const twice = withManifestSection(once, "name b\nversion 2\nkind program\n");
    expect(manifestTextOf(twice)).toBe("name b\nversion 2\nkind program\n");
    expect(twice[8]).toBe(0); // a custom section, first
    expect(new TextDecoder().decode(twice.subarray(11, 11 + MANIFEST_SECTION.length))).toBe(MANIFEST_SECTION);
    expect(withManifestSection(hello, "").length - 8).toBeGreaterThan(0);
    // What follows it is the program itself, byte for byte (without its own manifest).
    const bare = program("crasher"); // built without a manifest
    expect(manifestTextOf(bare)).toBeNull();
    const withOne = withManifestSection(bare, "name crasher\nversion 1\nkind program\n");
    expect(withOne.subarray(withOne.length - (bare.length - 8))).toEqual(bare.subarray(8));
  });

  it("a binary with two manifests, or a section that runs past its end, is refused", () => {
    const hello = withManifestSection(program("crasher"), "name a\nversion 1\nkind program\n");
    const section = hello.subarray(8, 8 + 2 + hello[9] + 0);
    const two = new Uint8Array([...hello.subarray(0, 8), ...section, ...hello.subarray(8)]);
    expect(() => manifestTextOf(two)).toThrow("2 dogma.manifest sections: a program has one manifest");
    const cut = hello.subarray(0, 20);
    expect(() => manifestTextOf(cut)).toThrow(/runs past the end of the binary/);
  });
});

describe("the build's manifest step", () => {
  it("puts a manifest in the binary; one that does not parse, or names another program, fails the build with its file and line, and the binary is removed", async () => {
    const work = mkdtempSync(join(tmpdir(), "dogma-manifest-build-"));
    try {
      const user = join(work, "user");
      mkdirSync(join(user, "programs"), { recursive: true });
      const output = join(work, "prog.wasm");
      const build = async (text: string | null) => {
        writeFileSync(output, program("crasher"));
        if (text === null) rmSync(join(user, "programs", "prog.manifest"), { force: true });
        else writeFileSync(join(user, "programs", "prog.manifest"), text);
        await embedManifest(user, { folder: "programs", name: "prog" }, output, new Map([["Log", "Log@0123456789abcdef"]]));
      };
      await build(null);
      expect(manifestTextOf(readFileSync(output))).toBeNull();
      await build("name prog\nversion 1\nkind program\nneeds log Log\n");
      expect(manifestTextOf(readFileSync(output))).toBe("name prog\nversion 1\nkind program\nneeds log Log@0123456789abcdef\n");
      await expect(build("name prog\nversion 1\nkind program\nmemory lots\n")).rejects.toThrow("user/programs/prog.manifest: line 4: memory lots is not a number of pages");
      expect(existsSync(output)).toBe(false);
      await expect(build("name other\nversion 1\nkind program\n")).rejects.toThrow('user/programs/prog.manifest: names the program "other"; it is beside prog.ts');
      expect(existsSync(output)).toBe(false);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe("the system's manifests", () => {
  const files = globSync("user/*/*.manifest", { cwd: root });

  it("every one parses, names the program beside it, and is in that program's binary as written, with the contracts' digests", async () => {
    expect(files.length).toBeGreaterThan(50);
    const digests = await contractDigests();
    for (const file of files) {
      const text = readFileSync(join(root, file), "utf8");
      const m = parseManifest(text);
      expect(m.name, file).toBe(basename(file, ".manifest"));
      expect(manifestTextOf(program(m.name)), file).toBe(withContractDigests(text, digests));
    }
  });

  it("the default config starts every service from its manifest: no line of it says what a service gets", () => {
    const config = readFileSync(join(root, "user/boot/init.conf"), "utf8");
    const lines = config.split("\n").map((l) => l.replace(/#.*/, "").trim()).filter((l) => l.length > 0);
    expect(lines.filter((l) => !/^(start|module)\s+[a-z0-9-]+$/.test(l))).toEqual([]);
    const started = lines.filter((l) => l.startsWith("start ")).map((l) => l.slice(6));
    expect(started).toEqual(["registry", "log", "console", "timer", "block", "fs", "hostfs", "panel", "pipe", "procman", "pager", "shell"]);
    for (const name of started) expect(parseManifest(manifestTextOf(program(name))!).kind).not.toBe("program");
    expect(modulesOf(config).slice(0, started.length)).toEqual(started);
  });

  it("names what only a start line names: a program the host may leave out of the image (init reads an installed one from the disk)", () => {
    const config = "start registry\nservice fs fs memory=64\nstart fs\nstart greeter\nmodule echo\nstart echo\n";
    expect([...startedOnly(config)]).toEqual(["registry", "greeter"]);
  });
});
