// Output for the command-line tools (npm run agent, npm run notify): writes that resolve once the
// text is flushed, so a process.exit right after loses nothing.

export function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => stream.write(text, () => resolve()));
}
