// Inbound callback bodies: every msgtype from realistic payloads, external users, string createAt,
// @-mention stripping in groups, unknown msgtypes and the quota notice; bad bodies fail without echo.
import { describe, expect, it } from "vitest";
import { parseCallback, type InboundMessage } from "../../functions/core/dingtalk/inbound.js";

const CREATE_AT = 1_726_000_000_000;

/** Common fields as DingTalk sends them for a 1:1 chat (reference §1). */
function direct(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    conversationId: "cidp9f5Ihs3k2n1KQXsOa3ZzKA==",
    chatbotCorpId: "ding9f50b15bccd16741",
    chatbotUserId: "$:LWCP_v1:$Bk5wqtmvzQDs2Yvs5hRh4w==",
    msgId: "msgQsSj6z1aBmLRA5IyHG9vEw==",
    senderNick: "张三",
    isAdmin: true,
    senderStaffId: "manager4711",
    sessionWebhookExpiredTime: CREATE_AT + 5_400_000,
    createAt: CREATE_AT,
    senderCorpId: "ding9f50b15bccd16741",
    conversationType: "1",
    senderId: "$:LWCP_v1:$Yp1GFAT3iwJBnKxTt8Iw0A==",
    sessionWebhook: "https://oapi.dingtalk.com/robot/sendBySession?session=4fd9b2b3e5ad05bd7e2b1a9a5d3b1c0e",
    robotCode: "dingdtx7tqr2fnnhnk3v",
    senderPlatform: "Mac",
    ...extra,
  };
}

/** A group message that @-mentions the bot. */
function group(extra: Record<string, unknown>): Record<string, unknown> {
  return direct({
    conversationType: "2",
    conversationId: "cidGl0Ck5VfqTx+1qAoO6Xyzw==",
    conversationTitle: "产品研发群",
    isInAtList: true,
    atUsers: [{ dingtalkId: "$:LWCP_v1:$Bk5wqtmvzQDs2Yvs5hRh4w==" }],
    ...extra,
  });
}

function ok(json: unknown): InboundMessage {
  const r = parseCallback(json);
  if (!r.ok) throw new Error(`expected ok, got ${r.reason}`);
  return r.message;
}

describe("parseCallback", () => {
  it("normalises a 1:1 text message", () => {
    const m = ok(direct({ msgtype: "text", text: { content: " 你好，帮我写首诗 " } }));
    expect(m).toEqual({
      msgId: "msgQsSj6z1aBmLRA5IyHG9vEw==",
      robotCode: "dingdtx7tqr2fnnhnk3v",
      createdAt: CREATE_AT,
      kind: "text",
      msgtype: "text",
      text: "你好，帮我写首诗",
      attachments: [],
      sender: {
        id: "$:LWCP_v1:$Yp1GFAT3iwJBnKxTt8Iw0A==",
        staffId: "manager4711",
        nick: "张三",
        corpId: "ding9f50b15bccd16741",
        isAdmin: true,
      },
      conversation: { type: "direct", id: "cidp9f5Ihs3k2n1KQXsOa3ZzKA==" },
      mentioned: true,
      reply: {
        sessionWebhook: "https://oapi.dingtalk.com/robot/sendBySession?session=4fd9b2b3e5ad05bd7e2b1a9a5d3b1c0e",
        sessionWebhookExpiresAt: CREATE_AT + 5_400_000,
      },
    });
  });

  it("handles an external user without senderStaffId, a string createAt and null extras", () => {
    const body = direct({ msgtype: "text", text: { content: "hello" }, createAt: String(CREATE_AT), senderUnionId: "uni123", isAdmin: null });
    delete body.senderStaffId;
    const m = ok(body);
    expect(m.createdAt).toBe(CREATE_AT);
    expect(m.sender.staffId).toBeUndefined();
    expect(m.sender.unionId).toBe("uni123");
    expect(m.sender.isAdmin).toBe(false);
    expect(ok(direct({ msgtype: "text", text: { content: "x" }, senderStaffId: "" })).sender.staffId).toBeUndefined();
  });

  it("strips the bot's @-mention in groups (leading space, or @Name kept by the client)", () => {
    expect(ok(group({ msgtype: "text", text: { content: " 今天天气如何" } })).text).toBe("今天天气如何");
    expect(ok(group({ msgtype: "text", text: { content: "@机器人 今天天气如何" } })).text).toBe("今天天气如何");
    expect(ok(group({ msgtype: "text", text: { content: "@机器人\u2005今天天气如何" } })).text).toBe("今天天气如何");
    const m = ok(group({ msgtype: "text", text: { content: "@机器人" } }));
    expect(m.text).toBe("");
    expect(m.mentioned).toBe(true);
    expect(m.conversation).toEqual({ type: "group", id: "cidGl0Ck5VfqTx+1qAoO6Xyzw==", title: "产品研发群" });
  });

  it("keeps a leading @ of another person unless it is a known bot name", () => {
    const atUsers = [{ dingtalkId: "$:LWCP_v1:$Bk5wqtmvzQDs2Yvs5hRh4w==" }, { dingtalkId: "$:LWCP_v1:$other", staffId: "lisi" }];
    const body = group({ msgtype: "text", text: { content: " @李四 的周报在哪" }, atUsers });
    expect(ok(body).text).toBe("@李四 的周报在哪");
    const named = group({ msgtype: "text", text: { content: "@AI 助手 @李四 的周报在哪" }, atUsers });
    const r = parseCallback(named, { botNames: ["AI 助手"] });
    expect(r.ok && r.message.text).toBe("@李四 的周报在哪");
  });

  it("reads isInAtList false as not mentioned in groups; 1:1 is always mentioned", () => {
    expect(ok(group({ msgtype: "text", text: { content: "hi" }, isInAtList: false })).mentioned).toBe(false);
    expect(ok(direct({ msgtype: "text", text: { content: "hi" }, isInAtList: false })).mentioned).toBe(true);
  });

  it("keeps the quoted message of a reply", () => {
    const m = ok(
      direct({
        msgtype: "text",
        text: {
          content: "这句话什么意思",
          isReplyMsg: true,
          repliedMsg: { msgType: "text", msgId: "msgOld==", senderId: "$:LWCP_v1:$x", createdAt: CREATE_AT - 60_000, content: { text: "知己知彼，百战不殆" } },
        },
      }),
    );
    expect(m.text).toBe("这句话什么意思");
    expect(m.quoted).toEqual({ text: "知己知彼，百战不殆" });
  });

  it("joins richText text parts and collects its pictures", () => {
    const m = ok(
      group({
        msgtype: "richText",
        content: {
          richText: [
            { type: "at", atName: "机器人" },
            { text: "看看这张图" },
            { type: "picture", downloadCode: "dcPic1", pictureDownloadCode: "pdcPic1" },
            { type: "text", text: "是什么花？" },
            { type: "picture", pictureDownloadCode: "pdcPic2" },
          ],
        },
      }),
    );
    expect(m.kind).toBe("richText");
    expect(m.text).toBe("看看这张图\n是什么花？");
    expect(m.attachments).toEqual([
      { type: "picture", downloadCode: "dcPic1" },
      { type: "picture", downloadCode: "pdcPic2" },
    ]);
  });

  it("parses picture, audio, video and file messages", () => {
    const pic = ok(direct({ msgtype: "picture", content: { downloadCode: "dcP", pictureDownloadCode: "pdcP" } }));
    expect(pic).toMatchObject({ kind: "picture", text: "", attachments: [{ type: "picture", downloadCode: "dcP" }] });

    const audio = ok(direct({ msgtype: "audio", content: { duration: 4000, downloadCode: "dcA", recognition: "明天上午九点开会" } }));
    expect(audio).toMatchObject({ kind: "audio", text: "明天上午九点开会", attachments: [{ type: "audio", downloadCode: "dcA", durationMs: 4000 }] });

    const video = ok(direct({ msgtype: "video", content: { duration: "12", downloadCode: "dcV", videoType: "mp4" } }));
    expect(video).toMatchObject({ kind: "video", attachments: [{ type: "video", downloadCode: "dcV", durationMs: 12, videoType: "mp4" }] });

    const file = ok(direct({ msgtype: "file", content: { downloadCode: "dcF", fileName: "季度报告.pdf" } }));
    expect(file).toMatchObject({ kind: "file", attachments: [{ type: "file", downloadCode: "dcF", fileName: "季度报告.pdf" }] });

    const stringContent = ok(direct({ msgtype: "file", content: JSON.stringify({ downloadCode: "dcS", fileName: "a.txt" }) }));
    expect(stringContent.attachments).toEqual([{ type: "file", downloadCode: "dcS", fileName: "a.txt" }]);
  });

  it("parses an unknown msgtype as unsupported and tolerates unknown fields", () => {
    const m = ok(direct({ msgtype: "interactiveCard", content: { cardData: {} }, hostingContext: { x: 1 }, openThreadId: "thr1", brandNew: [1, 2] }));
    expect(m.kind).toBe("unsupported");
    expect(m.msgtype).toBe("interactiveCard");
    expect(m.text).toBe("");
    expect(m.threadId).toBe("thr1");
  });

  it("parses the quota-exhausted form (no content, errorMessage)", () => {
    const m = ok(direct({ msgtype: "text", errorMessage: "机器人接收消息额度已用完(20001)" }));
    expect(m.kind).toBe("text");
    expect(m.text).toBe("");
    expect(m.errorMessage).toContain("20001");
  });

  it("works without robotCode (custom robots) and without sessionWebhook", () => {
    const body = direct({ msgtype: "text", text: { content: "hi" } });
    delete body.robotCode;
    delete body.sessionWebhook;
    delete body.sessionWebhookExpiredTime;
    const m = ok(body);
    expect(m.robotCode).toBeUndefined();
    expect(m.reply).toEqual({});
  });

  it("fails with a short reason that echoes no values", () => {
    const cases: unknown[] = [
      null,
      "text",
      [],
      direct({ msgtype: "text", text: { content: 42 } }),
      direct({ msgtype: "text" }),
      direct({ msgtype: "picture", content: {} }),
      direct({ msgtype: "text", text: { content: "x" }, msgId: "" }),
      direct({ msgtype: "text", text: { content: "x" }, conversationType: "3" }),
      direct({ msgtype: "text", text: { content: "x" }, createAt: "yesterday-secret-value" }),
      direct({ msgtype: "text", text: { content: "x" }, senderId: undefined, senderStaffId: undefined }),
    ];
    for (const c of cases) {
      const r = parseCallback(c);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.reason.length).toBeLessThan(60);
        expect(r.reason).not.toContain("secret-value");
      }
    }
    const r = parseCallback(direct({ msgtype: "text", text: { content: "x" }, createAt: "yesterday-secret-value" }));
    expect(r).toEqual({ ok: false, reason: "invalid field createAt" });
  });
});
