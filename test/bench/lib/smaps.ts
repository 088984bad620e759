// Where a process's resident memory sits, from Linux's /proc/<pid>/smaps read by the bench: glibc's
// malloc arenas (the main one on the brk heap and the 64 MB-aligned thread arenas), other anonymous
// memory (V8's heap pages, large malloc blocks, thread stacks) and file-backed mappings (code).
import { readFile } from "node:fs/promises";

export interface ResidentParts {
  /** glibc's main arena: the `[heap]` (brk) mapping. */
  mallocMainKb: number;
  /** glibc's thread arenas (a 64 MB-aligned region of exactly 64 MB, partly readable). */
  mallocThreadArenasKb: number;
  threadArenas: number;
  /** Other anonymous mappings: V8's heap and code pages, mmap'd malloc blocks, stacks. */
  otherAnonKb: number;
  /** Mappings of files: node, shared libraries, native addons. */
  filesKb: number;
  totalKb: number;
}

interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  path: string;
  rssKb: number;
}

const HEAP_MAX = 64n * 1024n * 1024n;
const HEADER = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S{4})\s+\S+\s+\S+\s+\d+\s*(.*)$/;

function parse(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split("\n")) {
    const h = HEADER.exec(line);
    if (h) {
      out.push({ start: BigInt(`0x${h[1]!}`), end: BigInt(`0x${h[2]!}`), perms: h[3]!, path: h[4]!.trim(), rssKb: 0 });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    const last = out[out.length - 1];
    if (rss && last) last.rssKb = Number(rss[1]);
  }
  return out;
}

/** Splits a process's RSS by kind of mapping; undefined where /proc/<pid>/smaps cannot be read. */
export async function residentParts(pid: number | undefined): Promise<ResidentParts | undefined> {
  if (pid === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/smaps`, "utf8");
  } catch {
    return undefined;
  }
  const maps = parse(text);
  const parts: ResidentParts = { mallocMainKb: 0, mallocThreadArenasKb: 0, threadArenas: 0, otherAnonKb: 0, filesKb: 0, totalKb: 0 };
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    parts.totalKb += m.rssKb;
    if (m.path === "[heap]") parts.mallocMainKb += m.rssKb;
    else if (m.path.startsWith("/")) parts.filesKb += m.rssKb;
    else if (m.path === "" && m.start % HEAP_MAX === 0n && arenaEnd(maps, i) - m.start === HEAP_MAX) {
      parts.threadArenas++;
      parts.mallocThreadArenasKb += m.rssKb;
      const next = maps[i + 1];
      if (next && next.start === m.end && next.perms.startsWith("---")) {
        parts.totalKb += next.rssKb;
        i++;
      }
    } else parts.otherAnonKb += m.rssKb;
  }
  return parts;
}

/** End of an arena candidate: its own end, or that of the inaccessible reserve right after it. */
function arenaEnd(maps: Mapping[], i: number): bigint {
  const m = maps[i]!;
  const next = maps[i + 1];
  return next && next.start === m.end && next.path === "" && next.perms.startsWith("---") ? next.end : m.end;
}
