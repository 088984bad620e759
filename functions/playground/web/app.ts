/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The playground page: a DingTalk-like chat (1:1 with the bot and group chats, one simulated user at
// a time) fed by long-polled events, with pictures, ActionCard buttons, live AI cards and a trace
// panel. Talks only to the playground's own API; holds no secret.
import type { ChatId, EventsResponse, PlaygroundEvent, PlaygroundState, SendResult, Trace } from "../protocol.js";
import { chatLabel, el, messageElement, traceElement, type ChatItem } from "./view.js";

interface Attachment {
  base64: string;
  contentType: string;
  fileName: string;
  dataUrl: string;
}

const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

const $ = <T extends HTMLElement>(id: string): T => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`page element #${id} missing`);
  return node as T;
};

const ui = {
  user: $<HTMLSelectElement>("user"),
  chats: $("chats"),
  config: $("config"),
  title: $("chat-title"),
  sub: $("chat-sub"),
  banner: $("banner"),
  messages: $("messages"),
  composer: $<HTMLFormElement>("composer"),
  input: $<HTMLTextAreaElement>("input"),
  mention: $("mention"),
  file: $<HTMLInputElement>("file"),
  attachment: $("attachment"),
  expired: $<HTMLInputElement>("opt-expired"),
  badSignature: $<HTMLInputElement>("opt-badsig"),
  error: $("error"),
  traces: $("traces"),
};

let init: PlaygroundState;
let user = "";
/** "dm" is the current user's 1:1 chat with the bot; otherwise a group's chat id. */
let view: ChatId = "dm";
let attachment: Attachment | undefined;
let selectedMsg: string | undefined;
const chats = new Map<ChatId, Map<string, ChatItem>>();
const traces = new Map<string, Trace>();
const unread = new Map<ChatId, number>();

const currentChat = (): ChatId => (view === "dm" ? `dm:${user}` : view);
const botName = () => init.bot.name;

function itemsOf(chat: ChatId): Map<string, ChatItem> {
  let items = chats.get(chat);
  if (!items) {
    items = new Map<string, ChatItem>();
    chats.set(chat, items);
  }
  return items;
}

function failureOf(msgId: string): string | undefined {
  const t = traces.get(msgId);
  if (!t || (t.state !== "rejected" && t.state !== "failed")) return undefined;
  const d = t.deliveries[0];
  return `未送达：HTTP ${d?.status ?? "?"}${d?.error ? ` ${d.error}` : ""}`;
}

/** A one-line preview of markdown for the conversation list. */
function plain(markdown: string): string {
  return markdown
    .replace(/^[\s>#*+-]+|\*\*|__|`/gm, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/&nbsp;/g, " ");
}

function renderChatList(): void {
  ui.chats.replaceChildren();
  const entries: Array<{ key: ChatId; chat: ChatId; title: string; kind: string; testid: string }> = [
    { key: "dm", chat: `dm:${user}`, title: botName(), kind: "单聊", testid: "chat-dm" },
    ...init.groups.map((g, i) => ({ key: g.chat, chat: g.chat, title: g.title, kind: "群聊", testid: `chat-group-${i + 1}` })),
  ];
  for (const e of entries) {
    const last = [...itemsOf(e.chat).values()].pop();
    const preview = !last ? "" : last.type === "user" ? `${last.sender.nick}: ${last.text || "[图片]"}` : plain(last.type === "card" ? last.content : (last.title ?? last.text ?? ""));
    const button = el("button", { type: "button", class: `chat-entry${view === e.key ? " active" : ""}`, "data-testid": e.testid });
    const count = unread.get(e.chat) ?? 0;
    button.append(
      el("div", { class: "avatar small" + (e.key === "dm" ? " bot" : " group") }, Array.from(e.title)[0] ?? "?"),
      el("div", { class: "entry-text" }),
    );
    const text = button.lastElementChild!;
    text.append(el("div", { class: "entry-title" }, `${e.title}`), el("div", { class: "entry-preview" }, preview.replace(/\s+/g, " ").slice(0, 40)));
    button.append(el("span", { class: "kind" }, e.kind));
    if (count > 0) button.append(el("span", { class: "badge" }, String(count)));
    button.addEventListener("click", () => switchChat(e.key));
    ui.chats.append(button);
  }
}

function renderHeader(): void {
  const me = init.users.find((u) => u.staffId === user);
  if (view === "dm") {
    ui.title.textContent = botName();
    ui.sub.textContent = `单聊 · 你是 ${me?.nick ?? user}（staffId ${user}）${me && !me.allowed ? " · 不在 allow_from 中" : ""}`;
  } else {
    const g = init.groups.find((x) => x.chat === view);
    ui.title.textContent = g?.title ?? view;
    const scope = init.groupScope === "sender" ? "每人独立上下文" : "全群共享上下文";
    ui.sub.textContent = `群聊 · 消息自动 @${botName()} · ${scope} · 你是 ${me?.nick ?? user}`;
  }
  ui.mention.hidden = view === "dm";
  ui.mention.textContent = `@${botName()}`;
}

function renderMessages(): void {
  const atBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 40;
  ui.messages.replaceChildren();
  for (const item of itemsOf(currentChat()).values()) {
    const node = messageElement(item, botName(), item.type === "user" ? failureOf(item.msgId) : undefined);
    if (item.msgId && item.msgId === selectedMsg) node.classList.add("selected");
    ui.messages.append(node);
  }
  if (atBottom || ui.messages.childElementCount < 3) ui.messages.scrollTop = ui.messages.scrollHeight;
}

function updateMessage(item: ChatItem): void {
  const id = item.type === "user" ? item.msgId : item.id;
  const old = [...ui.messages.children].find((n) => n instanceof HTMLElement && n.dataset.id === id);
  const atBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 40;
  const node = messageElement(item, botName(), item.type === "user" ? failureOf(item.msgId) : undefined);
  if (item.msgId && item.msgId === selectedMsg) node.classList.add("selected");
  if (old) old.replaceWith(node);
  else ui.messages.append(node);
  if (atBottom) ui.messages.scrollTop = ui.messages.scrollHeight;
}

function renderTraces(): void {
  ui.traces.replaceChildren();
  const list = [...traces.values()].sort((a, b) => b.sentAt - a.sentAt);
  if (list.length === 0) ui.traces.append(el("div", { class: "empty" }, "发一条消息，这里会显示它经过的每一步。"));
  for (const t of list) ui.traces.append(traceElement(t, chatLabel(t.chat, init.groups), t.msgId === selectedMsg));
}

function renderConfig(): void {
  ui.config.replaceChildren();
  const m = init.models;
  const rows: Array<[string, string]> = [
    ["模型", m.names.length ? m.names.map((n) => (n === m.primary ? `${n}（默认）` : n)).join("、") : "未配置"],
    ["allow_from", init.allowFrom.length ? init.allowFrom.join(", ") : "（空：所有人可用）"],
    ["group_scope", init.groupScope],
    ["AI 卡片", init.cards ? "开" : "关"],
  ];
  const dl = el("dl");
  for (const [k, v] of rows) dl.append(el("dt", {}, k), el("dd", {}, v));
  ui.config.append(el("div", { class: "config-title" }, "配置"), dl);
  if (m.help) {
    ui.banner.hidden = false;
    ui.banner.replaceChildren(el("pre", {}, m.help.join("\n")));
  }
}

function renderAll(): void {
  renderChatList();
  renderHeader();
  renderMessages();
  renderTraces();
}

function switchChat(key: ChatId): void {
  view = key;
  unread.delete(currentChat());
  renderAll();
  ui.input.focus();
}

/** Applies one event; returns the chat item to (re)draw when it belongs to the open chat. */
function apply(e: PlaygroundEvent): ChatItem | undefined {
  if (e.type === "trace") {
    traces.set(e.trace.msgId, e.trace);
    return e.trace.chat === currentChat() ? itemsOf(e.trace.chat).get(e.trace.msgId) : undefined;
  }
  const items = itemsOf(e.chat);
  const id = e.type === "user" ? e.msgId : e.id;
  if (!items.has(id) && e.chat !== currentChat() && e.type !== "user") unread.set(e.chat, (unread.get(e.chat) ?? 0) + 1);
  items.set(id, e);
  return e.chat === currentChat() ? e : undefined;
}

/** Replays what happened before the page opened (nothing counts as unread), then long-polls. */
async function poll(): Promise<void> {
  const history = (await (await fetch("/playground/api/events?after=0&wait=0")).json()) as EventsResponse;
  for (const e of history.events) apply(e);
  unread.clear();
  renderAll();
  document.body.dataset.ready = "true";
  let next = history.next;
  for (;;) {
    try {
      const res = await fetch(`/playground/api/events?after=${next}`);
      if (!res.ok) throw new Error(`events: HTTP ${res.status}`);
      const body = (await res.json()) as EventsResponse;
      if (body.epoch !== history.epoch) {
        location.reload();
        return;
      }
      next = body.next;
      const redraw = new Map<string, ChatItem>();
      for (const e of body.events) {
        const item = apply(e);
        if (item) redraw.set(item.type === "user" ? item.msgId : item.id, item);
      }
      if (redraw.size > 30) renderMessages();
      else for (const item of redraw.values()) updateMessage(item);
      if (body.events.some((e) => e.type !== "trace")) renderChatList();
      if (body.events.some((e) => e.type === "trace")) renderTraces();
    } catch {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function post(path: string, body: unknown): Promise<SendResult | undefined> {
  ui.error.textContent = "";
  try {
    const res = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const answer = (await res.json()) as SendResult | { error: string };
    if ("error" in answer) {
      ui.error.textContent = answer.error;
      return undefined;
    }
    return answer;
  } catch (err) {
    ui.error.textContent = `发送失败：${String(err)}`;
    return undefined;
  }
}

async function send(text: string, chat: ChatId = currentChat()): Promise<void> {
  const image = attachment;
  if (!text.trim() && !image) return;
  attachment = undefined;
  renderAttachment();
  await post("/playground/api/send", {
    chat,
    user,
    text,
    ...(image ? { image: { base64: image.base64, contentType: image.contentType, fileName: image.fileName } } : {}),
    expiredWebhook: ui.expired.checked,
    badSignature: ui.badSignature.checked,
  });
}

function renderAttachment(): void {
  ui.attachment.replaceChildren();
  ui.attachment.hidden = !attachment;
  if (!attachment) return;
  const remove = el("button", { type: "button", class: "remove", title: "移除" }, "×");
  remove.addEventListener("click", () => {
    attachment = undefined;
    renderAttachment();
  });
  ui.attachment.append(el("img", { src: attachment.dataUrl, alt: attachment.fileName, "data-testid": "attachment-preview" }), el("span", {}, attachment.fileName), remove);
}

function readImage(file: File): void {
  ui.error.textContent = "";
  if (file.size > MAX_IMAGE_BYTES) {
    ui.error.textContent = "图片不能超过 5 MB";
    return;
  }
  const reader = new FileReader();
  reader.onload = () => {
    const dataUrl = typeof reader.result === "string" ? reader.result : "";
    const m = /^data:([^;,]+);base64,(.*)$/.exec(dataUrl);
    if (!m) {
      ui.error.textContent = "读不了这张图片";
      return;
    }
    attachment = { base64: m[2]!, contentType: m[1]!, fileName: file.name, dataUrl };
    renderAttachment();
  };
  reader.readAsDataURL(file);
}

function select(msgId: string | undefined): void {
  selectedMsg = msgId;
  for (const n of document.querySelectorAll<HTMLElement>(".selected")) n.classList.remove("selected");
  if (!msgId) return;
  for (const n of document.querySelectorAll<HTMLElement>(`[data-msg-id="${CSS.escape(msgId)}"]`)) n.classList.add("selected");
}

function wire(): void {
  ui.user.addEventListener("change", () => {
    user = ui.user.value;
    renderAll();
  });
  ui.composer.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = ui.input.value;
    ui.input.value = "";
    void send(text);
  });
  ui.input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      ui.composer.requestSubmit();
    }
  });
  ui.file.addEventListener("change", () => {
    const file = ui.file.files?.[0];
    if (file) readImage(file);
    ui.file.value = "";
  });
  ui.messages.addEventListener("click", (e) => {
    const target = e.target instanceof Element ? e.target : null;
    const sendable = target?.closest<HTMLElement>("[data-send]");
    if (sendable?.dataset.send !== undefined) {
      e.preventDefault();
      void send(sendable.dataset.send);
      return;
    }
    const row = target?.closest<HTMLElement>("[data-msg-id]");
    if (row?.dataset.msgId) {
      select(row.dataset.msgId);
      document.querySelector(`#traces [data-msg-id="${CSS.escape(row.dataset.msgId)}"]`)?.scrollIntoView({ block: "nearest" });
    }
  });
  ui.traces.addEventListener("click", (e) => {
    const target = e.target instanceof Element ? e.target : null;
    const redeliver = target?.closest<HTMLElement>("[data-redeliver]")?.dataset.redeliver;
    if (redeliver) {
      void post("/playground/api/redeliver", { msgId: redeliver });
      return;
    }
    const msgId = target?.closest<HTMLElement>("[data-msg-id]")?.dataset.msgId;
    const t = msgId ? traces.get(msgId) : undefined;
    if (!t || !msgId) return;
    if (t.chat !== currentChat()) {
      if (t.chat.startsWith("dm:")) {
        user = t.chat.slice(3);
        ui.user.value = user;
        view = "dm";
      } else view = t.chat;
      renderAll();
    }
    select(msgId);
  });
}

async function main(): Promise<void> {
  const res = await fetch("/playground/api/state");
  init = (await res.json()) as PlaygroundState;
  for (const u of init.users) ui.user.append(el("option", { value: u.staffId }, `${u.nick}${u.allowed ? "" : "（无权限）"}`));
  user = init.users[0]?.staffId ?? "";
  ui.user.value = user;
  renderConfig();
  wire();
  await poll();
}

void main();
