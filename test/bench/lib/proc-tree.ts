// A process and its descendants as Linux's /proc shows them (pid, command, resident memory), for
// processes the bench cannot probe from inside, such as `npm start` with npm and a shell in front.
import { readFile, readdir } from "node:fs/promises";

export interface TreeProcess {
  pid: number;
  ppid: number;
  /** Short command name (/proc/<pid>/comm), e.g. "npm start", "sh", "node". */
  comm: string;
  rssKb: number;
  /** Exited, waiting for its parent to collect it. */
  zombie: boolean;
}

/** One process as /proc shows it; undefined once it is gone. */
export async function readProcess(pid: number): Promise<TreeProcess | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, "m").exec(status)?.[1]?.trim();
    const rss = /^(\d+)/.exec(field("VmRSS") ?? "")?.[1];
    return { pid, ppid: Number(field("PPid")), comm: field("Name") ?? "?", rssKb: rss ? Number(rss) : 0, zombie: (field("State") ?? "").startsWith("Z") };
  } catch {
    return undefined;
  }
}

/** `root` and every process below it; empty where /proc cannot be read (not Linux, or it exited). */
export async function processTree(root: number): Promise<TreeProcess[]> {
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return [];
  }
  const all = (await Promise.all(entries.filter((e) => /^\d+$/.test(e)).map((e) => readProcess(Number(e))))).filter(
    (p): p is TreeProcess => p !== undefined,
  );
  const tree: TreeProcess[] = [];
  const wanted = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all)
      if (!tree.includes(p) && (p.pid === root || wanted.has(p.ppid))) {
        tree.push(p);
        wanted.add(p.pid);
        grew = true;
      }
  }
  return tree.sort((a, b) => a.pid - b.pid);
}
