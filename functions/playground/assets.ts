// The page's files, served from memory: index.html and style.css as written, app.js bundled from
// web/app.ts by esbuild (loaded lazily: a dev dependency, only the playground needs it). No CDN.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface Asset {
  contentType: string;
  body: string;
}

export type Assets = Record<"index.html" | "style.css" | "app.js", Asset>;

/** functions/playground/web/, found upwards from this module (the source tree, or infra/launch.mjs's bundle cache). */
function webDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const web = join(dir, "functions", "playground", "web");
    if (existsSync(join(web, "app.ts"))) return `${web}/`;
    if (dirname(dir) === dir) throw new Error("playground: functions/playground/web not found");
  }
}

export async function buildAssets(): Promise<Assets> {
  const esbuild = await import("esbuild");
  const WEB = webDir();
  const [html, css, bundle] = await Promise.all([
    readFile(`${WEB}index.html`, "utf8"),
    readFile(`${WEB}style.css`, "utf8"),
    esbuild.build({
      entryPoints: [`${WEB}app.ts`],
      bundle: true,
      write: false,
      format: "iife",
      platform: "browser",
      target: "es2020",
      charset: "utf8",
      legalComments: "none",
      logLevel: "silent",
    }),
  ]);
  const js = bundle.outputFiles[0]?.text;
  if (!js) throw new Error("playground: the page script did not build");
  return {
    "index.html": { contentType: "text/html; charset=utf-8", body: html },
    "style.css": { contentType: "text/css; charset=utf-8", body: css },
    "app.js": { contentType: "text/javascript; charset=utf-8", body: js },
  };
}
