/**
 * `dogma web [--port N] [--host ADDRESS] [--no-build]` (and `npm run web`): builds the page and
 * serves it, printing the URL, until interrupted. The built folder (build/web) is static; this
 * server only adds the isolation headers (docs/WEB.md "Serving").
 */
import { buildWeb, serveWeb, WEB_OUT_DIR } from "./build.ts";

const USAGE = `usage: dogma web [--port N] [--host ADDRESS] [--no-build]

Builds the browser page (vite) into build/web and serves it on localhost with the headers it
wants, printing the URL. Open it in Chromium 137 or newer. --no-build serves what is built.
`;

export async function webCommand(argv: string[]): Promise<number> {
  let port = 8737;
  let host = "127.0.0.1";
  let rebuild = true;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "--help") {
      process.stdout.write(USAGE);
      return 0;
    } else if (flag === "--no-build") rebuild = false;
    else if (flag === "--port" || flag === "--host") {
      const value = argv[++i];
      if (value === undefined) return usage(`${flag} needs a value`);
      if (flag === "--host") host = value;
      else if (!/^\d+$/.test(value) || Number(value) > 65535) return usage(`--port needs a port number, not ${value}`);
      else port = Number(value);
    } else return usage(`unknown option "${flag}"`);
  }
  try {
    if (rebuild) {
      process.stderr.write("dogma web: building the page…\n");
      await buildWeb();
    }
    const server = await serveWeb({ port, host });
    process.stdout.write(`dogma web: serving ${WEB_OUT_DIR}\n  ${server.url}\n(^C stops)\n`);
    await new Promise<void>((stop) => process.once("SIGINT", stop));
    await server.close();
    return 0;
  } catch (error) {
    process.stderr.write(`dogma web: ${(error as Error).message}\n`);
    return 1;
  }
}

function usage(message: string): number {
  process.stderr.write(`dogma web: ${message}\n\n${USAGE}`);
  return 2;
}
