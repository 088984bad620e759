// How the plugin talks to the person deploying: progress steps and notes (stderr through the
// framework's log), results on stdout (the trigger URL, info, invocation results).
export interface Reporter {
  /** A finished step, e.g. "function worker updated". */
  step(message: string): void;
  note(message: string): void;
  warn(message: string): void;
  /** Output meant for stdout (pipes, scripts). */
  result(text: string): void;
}

/** Collects everything; for tests and for callers that print later. */
export function memoryReporter(): Reporter & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    step: (m) => lines.push(`✔ ${m}`),
    note: (m) => lines.push(m),
    warn: (m) => lines.push(`warning: ${m}`),
    result: (t) => lines.push(t),
  };
}
