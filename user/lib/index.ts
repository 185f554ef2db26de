// libdogma: `import { print, args, exit } from "../lib";` in a program.
export * from "./errors";
export * from "./io";
export * from "./process";
export * from "./time";
export * from "./message";
export * from "./abort";
export * from "./pages";
