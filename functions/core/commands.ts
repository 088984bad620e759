// Chat commands: recognises `/help`, `/new` (`/reset`), `/model [name]`, `/usage [all]`,
// `/reminders [cancel <id>]` and `/forget [confirm]` in a message, accepting the full-width slash
// and the "、" a Chinese keyboard types for "/".

export type Command =
  | { name: "help" }
  | { name: "new" }
  | { name: "model"; arg: string | undefined }
  | { name: "usage"; all: boolean }
  | { name: "reminders"; cancel: string | undefined }
  | { name: "forget"; confirm: boolean }
  | { name: "unknown"; word: string };

const ALIASES: Record<string, Exclude<Command["name"], "unknown">> = {
  help: "help",
  帮助: "help",
  new: "new",
  reset: "new",
  新对话: "new",
  model: "model",
  模型: "model",
  usage: "usage",
  用量: "usage",
  reminders: "reminders",
  reminder: "reminders",
  提醒: "reminders",
  forget: "forget",
  忘记我: "forget",
};

const CONFIRM = new Set(["confirm", "确认", "yes"]);

export function parseCommand(text: string): Command | undefined {
  const match = /^([/／、])\s*(\S+)(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return undefined;
  const word = match[2]!.toLowerCase();
  const arg = match[3]?.trim() || undefined;
  const name = Object.hasOwn(ALIASES, word) ? ALIASES[word] : undefined;
  if (!name) return match[1] === "、" ? undefined : { name: "unknown", word };
  if (name === "model") return { name, arg };
  if (name === "reminders") {
    const cancel = /^(?:cancel|取消)\s+(\S+)$/i.exec(arg ?? "");
    return { name, cancel: cancel?.[1] };
  }
  if (name === "usage") return { name, all: arg?.toLowerCase() === "all" || arg === "全部" };
  if (name === "forget") return { name, confirm: !!arg && CONFIRM.has(arg.toLowerCase()) };
  return { name };
}
