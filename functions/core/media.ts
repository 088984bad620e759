// Inbound media → what the model reads: pictures (a `picture` message or pictures inside richText)
// become base64 data URLs, text-like files become their text with the file name, audio is DingTalk's
// recognition text. Anything that cannot be used becomes a plain-Chinese reply instead.
import type { Downloaded } from "./dingtalk/download.js";
import { DownloadError } from "./dingtalk/download.js";
import { DingTalkApiError } from "./dingtalk/http.js";
import type { InboundMessage } from "./dingtalk/inbound.js";
import type { ContentPart } from "./llm/types.js";
import { describeError, type Logger } from "./log.js";
import * as say from "./replies.js";

/** Pictures beyond this many in one message are not sent to the model. */
export const MAX_IMAGES_PER_MESSAGE = 9;

/** File extensions read as text (lower case, without the dot). */
export const TEXT_FILE_EXTENSIONS: readonly string[] = [
  "txt", "md", "markdown", "csv", "tsv", "json", "jsonl", "yaml", "yml", "xml", "html", "htm", "log", "ini", "toml",
  "conf", "cfg", "properties", "sql", "sh", "bash", "py", "js", "mjs", "cjs", "ts", "tsx", "jsx", "java", "kt", "go",
  "rs", "c", "h", "cpp", "hpp", "cc", "cs", "rb", "php", "swift", "scala", "lua", "r", "vue", "css", "scss", "less",
  "tex", "diff", "patch", "gradle", "dockerfile",
];

export interface MediaSource {
  fetch(downloadCode: string, robotCode: string, maxBytes: number): Promise<Downloaded>;
}

export interface MediaDeps {
  /** Absent when DingTalk credentials are missing: media messages then get "not supported". */
  media: MediaSource | undefined;
  limits: { fileMaxBytes: number; imageMaxBytes: number };
  robotCode: string;
  log: Logger;
}

export interface UserInput {
  /** The user's words for the model (a file's text included). */
  text: string;
  /** Pictures as `data:image/…;base64,…` URLs. */
  images: string[];
  /** What the conversation history keeps for this turn (pictures become a marker). */
  historyText: string;
}

export type InputResult = { ok: true; input: UserInput } | { ok: false; reply: string; reason: string };

/** The picture download codes of a message (a picture message, or pictures inside rich text). */
export function pictureCodes(msg: InboundMessage): string[] {
  if (msg.kind !== "picture" && msg.kind !== "richText") return [];
  return msg.attachments.filter((a) => a.type === "picture").map((a) => a.downloadCode);
}

const IMAGE_SIGNATURES: Array<[string, (b: Buffer) => boolean]> = [
  ["image/jpeg", (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ["image/png", (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))],
  ["image/gif", (b) => b.subarray(0, 4).toString("latin1") === "GIF8"],
  ["image/webp", (b) => b.subarray(0, 4).toString("latin1") === "RIFF" && b.subarray(8, 12).toString("latin1") === "WEBP"],
  ["image/bmp", (b) => b.subarray(0, 2).toString("latin1") === "BM"],
];

/** The image type from the bytes themselves (DingTalk's Content-Type and file names are unreliable). */
export function sniffImage(bytes: Buffer): string | undefined {
  return IMAGE_SIGNATURES.find(([, test]) => test(bytes))?.[0];
}

function extensionOf(name: string): string {
  const base = name.toLowerCase().split(/[\\/]/).pop() ?? "";
  if (base === "dockerfile" || base === "makefile") return base === "dockerfile" ? "dockerfile" : "txt";
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot + 1) : "";
}

export function isTextFileName(name: string): boolean {
  return TEXT_FILE_EXTENSIONS.includes(extensionOf(name));
}

/** UTF-8 (BOM dropped), else GB18030 (what Chinese Windows/Excel write); undefined for binary data. */
export function decodeText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    try {
      return new TextDecoder("gb18030", { fatal: true }).decode(body);
    } catch {
      return undefined;
    }
  }
}

function failureReply(err: unknown, what: "picture" | "file", limit: number): { reply: string; reason: string } {
  if (err instanceof DownloadError && err.reason === "too_large") return { reply: say.mediaTooLarge(what, limit), reason: "too_large" };
  const reason = err instanceof DownloadError ? err.reason : err instanceof DingTalkApiError ? err.code : "error";
  return { reply: say.mediaDownloadFailed(what), reason };
}

/** Whether this message needs the media source (pictures or a file). */
export function hasMedia(msg: InboundMessage): boolean {
  return pictureCodes(msg).length > 0 || msg.kind === "file";
}

/** Turns the message into model input, downloading its pictures or file. Never throws for bad media. */
export async function readUserInput(msg: InboundMessage, deps: MediaDeps): Promise<InputResult> {
  const codes = pictureCodes(msg);
  if (codes.length > 0) return readPictures(msg, codes, deps);
  if (msg.kind === "file") return readFile(msg, deps);
  return { ok: true, input: { text: msg.text, images: [], historyText: msg.text } };
}

async function readPictures(msg: InboundMessage, codes: string[], deps: MediaDeps): Promise<InputResult> {
  if (!deps.media) return { ok: false, reply: say.mediaUnavailable("picture"), reason: "no media source" };
  const source = deps.media;
  const wanted = codes.slice(0, MAX_IMAGES_PER_MESSAGE);
  const max = deps.limits.imageMaxBytes;
  let files: Downloaded[];
  try {
    files = await Promise.all(wanted.map((code) => source.fetch(code, deps.robotCode, max)));
  } catch (err) {
    deps.log.warn("picture download failed", { msgId: msg.msgId, error: describeError(err) });
    return { ok: false, ...failureReply(err, "picture", max) };
  }
  const images: string[] = [];
  for (const file of files) {
    const type = sniffImage(file.bytes);
    if (!type) return { ok: false, reply: say.pictureUnreadable(), reason: "not an image" };
    images.push(`data:${type};base64,${file.bytes.toString("base64")}`);
  }
  const marker = say.pictureMarker(images.length);
  return {
    ok: true,
    input: { text: msg.text || marker, images, historyText: msg.text ? `${marker} ${msg.text}` : marker },
  };
}

async function readFile(msg: InboundMessage, deps: MediaDeps): Promise<InputResult> {
  const attachment = msg.attachments.find((a) => a.type === "file");
  const name = attachment?.fileName ?? "";
  if (!attachment || !isTextFileName(name)) return { ok: false, reply: say.fileTypeUnsupported(name), reason: "file type" };
  if (!deps.media) return { ok: false, reply: say.mediaUnavailable("file"), reason: "no media source" };
  const max = deps.limits.fileMaxBytes;
  let file: Downloaded;
  try {
    file = await deps.media.fetch(attachment.downloadCode, deps.robotCode, max);
  } catch (err) {
    deps.log.warn("file download failed", { msgId: msg.msgId, error: describeError(err) });
    return { ok: false, ...failureReply(err, "file", max) };
  }
  const content = decodeText(file.bytes);
  if (content === undefined) return { ok: false, reply: say.fileNotText(name), reason: "not text" };
  const text = say.fileForModel(name, content, msg.text);
  return { ok: true, input: { text, images: [], historyText: text } };
}

/** The current turn as chat content: plain text, or text plus image parts. */
export function toContent(text: string, images: readonly string[]): string | ContentPart[] {
  if (images.length === 0) return text;
  return [{ type: "text", text }, ...images.map((url): ContentPart => ({ type: "image_url", image_url: { url } }))];
}
