// Input and output for the command-line tools (npm run agent, notify, usage): strict flag parsing that
// prints the error or the help, and writes that resolve once the text is flushed, so a process.exit
// right after loses nothing.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { describeError } from "./core/log.js";

export function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => stream.write(text, () => resolve()));
}

type Options = NonNullable<ParseArgsConfig["options"]>;
type Flags<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: false }>>["values"];

/**
 * The command's flags (`options` should include `help`), or the exit code once the error and the
 * usage (exit 2) or the help (`-h`, exit 0) are printed.
 */
export async function readFlags<const T extends Options>(argv: string[], options: T, usage: string): Promise<{ flags: Flags<T> } | { exit: number }> {
  let flags: Flags<T>;
  try {
    flags = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    await write(process.stderr, `error: ${describeError(err).message}\n${usage}\n`);
    return { exit: 2 };
  }
  if ((flags as Record<string, unknown>).help) {
    await write(process.stdout, `${usage}\n`);
    return { exit: 0 };
  }
  return { flags };
}
