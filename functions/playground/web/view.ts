/// <reference lib="dom" />
// The page's rendering: chat messages (user text and pictures, bot markdown, ActionCards, live AI
// cards) and trace entries as DOM elements. Bot text goes through the escaping markdown renderer;
// everything else is set as text, never as HTML.
import type { ChatId, PlaygroundEvent, Trace } from "../protocol.js";
import { escapeHtml, renderDingTalkMarkdown } from "./markdown.js";

export type ChatItem = Extract<PlaygroundEvent, { type: "user" | "bot" | "card" }>;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const CARD_STATUS: Record<string, string> = { processing: "思考中…", inputting: "生成中…", finished: "", failed: "生成失败" };

function itemId(item: ChatItem): string {
  return item.type === "user" ? item.msgId : item.id;
}

function avatar(name: string, bot: boolean): HTMLElement {
  return el("div", { class: `avatar${bot ? " bot" : ""}`, "aria-hidden": "true" }, Array.from(name)[0] ?? "?");
}

function botBubble(item: Extract<ChatItem, { type: "bot" | "card" }>): HTMLElement {
  if (item.type === "card") {
    const bubble = el("div", { class: "bubble card", "data-card-status": item.status, "data-card-updates": String(item.updates) });
    const body = el("div", { class: "md" });
    body.innerHTML = renderDingTalkMarkdown(item.content);
    bubble.append(el("div", { class: "card-tag" }, "AI 卡片"), body);
    const status = CARD_STATUS[item.status];
    if (status) bubble.append(el("div", { class: `card-status ${item.status}` }, status));
    return bubble;
  }
  if (item.msgtype === "actionCard") {
    const bubble = el("div", { class: "bubble action-card" });
    if (item.title) bubble.append(el("div", { class: "ac-title" }, item.title));
    const body = el("div", { class: "md" });
    body.innerHTML = renderDingTalkMarkdown(item.text ?? "");
    bubble.append(body);
    const buttons = el("div", { class: "ac-buttons" });
    for (const b of item.buttons ?? []) {
      const send = /^dtmd:\/\/dingtalkclient\/sendMessage\?/.test(b.url) ? new URLSearchParams(b.url.split("?")[1] ?? "").get("content") : null;
      const button = el("button", { type: "button", class: "ac-button", ...(send !== null ? { "data-send": send } : { disabled: "" }) }, b.title);
      buttons.append(button);
    }
    bubble.append(buttons);
    return bubble;
  }
  const bubble = el("div", { class: "bubble md" });
  if (item.msgtype === "markdown") bubble.innerHTML = renderDingTalkMarkdown(item.text ?? "");
  else bubble.innerHTML = escapeHtml(item.text ?? `[${item.msgtype}]`).replace(/\n/g, "<br>");
  return bubble;
}

/** One chat message as an element (re-rendered whole when it changes). */
export function messageElement(item: ChatItem, botName: string, failed: string | undefined): HTMLElement {
  const mine = item.type === "user";
  const row = el("div", {
    class: `msg ${mine ? "from-user" : "from-bot"}`,
    "data-id": itemId(item),
    "data-testid": mine ? "msg-user" : item.type === "card" ? "msg-card" : "msg-bot",
    ...(item.msgId ? { "data-msg-id": item.msgId } : {}),
  });
  const name = mine ? item.sender.nick : botName;
  const body = el("div", { class: "body" });
  const meta = mine ? "" : item.type === "card" ? "AI 卡片" : item.route === "webhook" ? "via sessionWebhook" : "via OpenAPI";
  body.append(el("div", { class: "name" }, meta ? `${name} · ${meta}` : name));
  if (mine) {
    const bubble = el("div", { class: "bubble" });
    if (item.text) bubble.append(el("div", { class: "text" }, item.text));
    if (item.imageUrl) bubble.append(el("img", { src: item.imageUrl, alt: "图片", class: "picture" }));
    body.append(bubble);
    if (failed) body.append(el("div", { class: "failed", "data-testid": "msg-failed" }, failed));
  } else body.append(botBubble(item));
  row.append(avatar(name, !mine), body);
  return row;
}

function ms(value: number | undefined): string {
  return value === undefined ? "—" : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

function field(dl: HTMLElement, name: string, label: string, value: string, cls = ""): void {
  dl.append(el("dt", {}, label), el("dd", { "data-field": name, ...(cls ? { class: cls } : {}) }, value));
}

/** One message's trace: signature, claim, route, model, tokens and the latency split. */
export function traceElement(trace: Trace, chatName: string, selected: boolean): HTMLElement {
  const node = el("div", {
    class: `trace-item state-${trace.state}${selected ? " selected" : ""}`,
    "data-testid": "trace",
    "data-msg-id": trace.msgId,
    "data-state": trace.state,
  });
  const head = el("div", { class: "t-head" });
  head.append(el("b", {}, trace.user), el("span", { class: "t-chat" }, ` · ${chatName}`), el("span", { class: `t-state ${trace.state}` }, trace.state));
  node.append(head, el("div", { class: "t-preview" }, trace.preview));

  const first = trace.deliveries[0];
  const dl = el("dl");
  const sig = first ? (first.signature === "ok" ? "ok" : `failed${first.signatureReason ? ` (${first.signatureReason})` : ""}`) : "…";
  field(dl, "signature", "signature", sig, first?.signature === "failed" ? "bad" : "good");
  const claim = first?.claim ? (first.claim === "duplicate" ? `duplicate (${first.claimState ?? "?"})` : first.claim) : first?.error ? `— (${first.error})` : "…";
  field(dl, "claim", "dedupe claim", claim, first?.claim === "accepted" ? "good" : "");
  field(dl, "kind", "outcome", trace.kind ?? "…");
  field(dl, "route", "route", trace.route ?? "…");
  const fallbacks = trace.attempts.filter((a) => !a.ok).map((a) => `${a.modelName}✗${a.kind}`);
  field(dl, "model", "model", trace.model ? [...fallbacks, trace.model].join(" → ") : fallbacks.join(" → ") || "—");
  const tools = (trace.tools ?? []).map((t) => `${t.name} ${t.ok ? "✓" : `✗${t.error ?? ""}`} ${ms(t.ms)}${t.reused ? " (reused)" : ""}`);
  field(dl, "tools", "tool calls", tools.join(", ") || "—", trace.tools?.some((t) => !t.ok) ? "bad" : "");
  field(dl, "tokens", "tokens in/out", trace.tokens ? `${trace.tokens.prompt} / ${trace.tokens.completion}` : "—");
  field(dl, "ack", "ack (callback)", first ? ms(first.ackMs) : "…");
  field(dl, "first-token", "LLM first token", ms(trace.llm?.firstTokenMs));
  field(dl, "llm-total", "LLM total", ms(trace.llm?.totalMs));
  field(dl, "send", trace.route === "card" ? "send (stream)" : "send", ms(trace.sendMs));
  field(dl, "queued", "queued", ms(trace.queuedMs));
  node.append(dl);

  for (const [i, d] of trace.deliveries.slice(1).entries())
    node.append(
      el(
        "div",
        { class: "t-redelivery", "data-testid": "redelivery" },
        `delivery ${i + 2}: HTTP ${d.status}, ${d.signature === "ok" ? "signature ok" : "signature failed"}, claim ${d.claim ?? "—"}${d.claimState ? ` (${d.claimState})` : ""}`,
      ),
    );
  for (const note of trace.notes) node.append(el("div", { class: "t-note" }, note));
  const actions = el("div", { class: "t-actions" });
  actions.append(el("button", { type: "button", "data-redeliver": trace.msgId, title: "DingTalk 重投：同一 msgId 再签名发送一次" }, "重新投递"));
  actions.append(el("code", { class: "t-id" }, trace.msgId.slice(0, 14)));
  node.append(actions);
  return node;
}

export function chatLabel(chat: ChatId, groups: ReadonlyArray<{ chat: ChatId; title: string }>): string {
  if (chat.startsWith("dm:")) return "单聊";
  return groups.find((g) => g.chat === chat)?.title ?? chat;
}
