// A Chromium for the browser tests with nothing installed by hand: `CHROMIUM_PATH` if set, else the
// headless Chromium that the @sparticuz/chromium npm package ships brotli-compressed (x64 Linux),
// unpacked once per package version into node_modules/.cache/dingclaw/. It links against NSS, NSPR
// and expat: the system's copies when present, else the ones the package ships; when neither loads,
// the error names the missing libraries and the Debian packages that bring them.
import { execFile } from "node:child_process";
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createBrotliDecompress } from "node:zlib";
import { z } from "zod";
import { ROOT } from "./processes.js";

export interface Chromium {
  executablePath: string;
  args: string[];
  /** The browser process's whole environment (Playwright's `env` replaces process.env). */
  env: Record<string, string>;
}

/** Headless, as root, on a machine without network: no sandbox, no GPU, no calls home. */
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Debian packages of the libraries the packaged Chromium links against. */
const DEBIAN_PACKAGE: Record<string, string> = {
  "libnss3.so": "libnss3",
  "libnssutil3.so": "libnss3",
  "libnspr4.so": "libnspr4",
  "libplc4.so": "libnspr4",
  "libplds4.so": "libnspr4",
  "libexpat.so.1": "libexpat1",
};

const PACKAGE = "@sparticuz/chromium";

export async function findChromium(): Promise<Chromium> {
  const own = process.env.CHROMIUM_PATH;
  if (own) {
    if (!existsSync(own)) throw new Error(`CHROMIUM_PATH is ${own}, which does not exist. Unset it to use the Chromium from the ${PACKAGE} npm package.`);
    return { executablePath: own, args: ARGS, env: environment() };
  }
  if (process.platform !== "linux" || process.arch !== "x64")
    throw new Error(`The ${PACKAGE} npm package ships Chromium for x64 Linux only (this is ${process.platform}/${process.arch}): point CHROMIUM_PATH at a Chromium or Chrome binary.`);

  const dir = await unpacked();
  const executablePath = join(dir, "chromium");
  const env = environment({ FONTCONFIG_FILE: join(dir, "fonts.conf") });
  const missing = await missingLibraries(executablePath, env);
  if (missing.length > 0) {
    env.LD_LIBRARY_PATH = [join(dir, "lib"), env.LD_LIBRARY_PATH].filter(Boolean).join(":");
    const stillMissing = await missingLibraries(executablePath, env);
    if (stillMissing.length > 0) {
      const packages = [...new Set(stillMissing.map((lib) => DEBIAN_PACKAGE[lib] ?? lib))];
      throw new Error(
        `The browser test's Chromium (${executablePath}) cannot load ${stillMissing.join(", ")}, neither from the system ` +
          `nor from the copies shipped in ${PACKAGE}. Install them (Debian/Ubuntu: apt-get install -y ${packages.join(" ")}) ` +
          "or point CHROMIUM_PATH at a Chromium that runs here.",
      );
    }
  }
  return { executablePath, args: ARGS, env };
}

function environment(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return { ...env, ...extra };
}

/** The package's files unpacked into a folder named by its version; made under a temporary name, then renamed. */
async function unpacked(): Promise<string> {
  const bin = join(dirname(createRequire(import.meta.url).resolve(PACKAGE)), "..", "..", "bin");
  const { version } = z.object({ version: z.string().min(1) }).parse(JSON.parse(readFileSync(join(bin, "..", "package.json"), "utf8")));
  const dir = join(ROOT, "node_modules", ".cache", "dingclaw", `chromium-${version}`);
  if (existsSync(dir)) return dir;

  const partial = `${dir}.${process.pid}.tmp`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    await pipeline(createReadStream(join(bin, "chromium.br")), createBrotliDecompress(), createWriteStream(join(partial, "chromium"), { mode: 0o755 }));
    await untar(join(bin, "al2023.tar.br"), partial); // lib/: NSS, NSPR, expat
    await untar(join(bin, "fonts.tar.br"), partial); // fonts/Open_Sans/
    writeFileSync(
      join(partial, "fonts.conf"),
      [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
        "<fontconfig>",
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>',
        `  <dir>${join(dir, "fonts")}</dir>`,
        `  <cachedir>${join(dir, "fonts-cache")}</cachedir>`,
        "</fontconfig>",
        "",
      ].join("\n"),
    );
    renameSync(partial, dir);
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(dir)) throw err; // else another process unpacked it first
  }
  return dir;
}

/** Unpacks a brotli-compressed tar with the system's tar (Debian's is always there). */
async function untar(file: string, into: string): Promise<void> {
  const tarball = join(into, "unpacking.tar");
  await pipeline(createReadStream(file), createBrotliDecompress(), createWriteStream(tarball));
  await promisify(execFile)("tar", ["-xf", tarball, "-C", into, "--no-same-owner"]).catch((err: Error & { stderr?: string }) => {
    throw new Error(`tar could not unpack ${file}: ${err.stderr?.trim() || err.message}`);
  });
  rmSync(tarball);
}

/** Libraries `ldd` reports as "not found" for the binary under `env`; none when ldd itself is absent. */
function missingLibraries(binary: string, env: Record<string, string>): Promise<string[]> {
  return new Promise((resolve) => {
    execFile("ldd", [binary], { env }, (err, stdout) => {
      if (err && (err as NodeJS.ErrnoException).code === "ENOENT") return resolve([]);
      resolve([...stdout.matchAll(/^\s*(\S+) => not found/gm)].map((m) => m[1] ?? ""));
    });
  });
}
