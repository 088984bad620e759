// model_list[].allow_from through the real message path: who may pick an entry with /model, which
// model a turn uses when the conversation's choice is not the sender's to use, fallbacks that skip
// entries the sender may not use, admins who may use every entry.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BACKUP_KEY, LLM_KEY, startWorld, type World } from "../helpers/world.js";

let w: World;
beforeAll(async () => {
  w = await startWorld({
    config: (api_base) => ({
      agents: { defaults: { model_name: "glm", model_fallbacks: ["premium", "backup"] } },
      model_list: [
        { model_name: "glm", model: "zhipu/glm-4.7", api_key: LLM_KEY, api_base },
        { model_name: "premium", model: "openai/gpt-4o", api_key: LLM_KEY, api_base, allow_from: ["boss"] },
        { model_name: "backup", model: "deepseek/deepseek-chat", api_key: BACKUP_KEY, api_base },
      ],
      channels: { dingtalk: { admins: ["root"] } },
    }),
  });
});
afterAll(() => w.close());
afterEach(() => {
  w.dt.reset();
  w.llm.reset();
});

const lastText = () => w.dt.sent().at(-1)!.text!;
const models = () => w.llm.chatRequests().map((r) => r.model);

describe("model access (allow_from)", () => {
  it("/model lists and switches only to entries the sender may use", async () => {
    await w.deliver({ text: "/model", staffId: "emp" });
    expect(lastText()).toContain("可选模型：`glm`、`backup`");
    expect(lastText()).not.toContain("premium");
    await w.deliver({ text: "/model premium", staffId: "emp" });
    expect(lastText()).toContain("仅限指定人员使用");
    await w.deliver({ text: "还是原来的模型吗", staffId: "emp" });
    expect(models()).toEqual(["glm-4.7"]);

    await w.deliver({ text: "/model premium", staffId: "boss" });
    expect(lastText()).toContain("已切换到模型 **premium**");
    await w.deliver({ text: "用贵的模型", staffId: "boss" });
    expect(models().at(-1)).toBe("gpt-4o");
  });

  it("in a shared group, a model someone else picked is not used for a sender outside its allow_from", async () => {
    const group = { type: "group" as const, conversationId: "cidAccess==" };
    await w.deliver({ ...group, text: "/model premium", staffId: "boss" });
    await w.deliver({ ...group, text: "老板的问题", staffId: "boss" });
    await w.deliver({ ...group, text: "员工的问题", staffId: "emp" });
    expect(models()).toEqual(["gpt-4o", "glm-4.7"]);
    await w.deliver({ ...group, text: "/model", staffId: "emp" });
    expect(lastText()).toContain("当前模型：**glm**");
  });

  it("admins may use every entry", async () => {
    await w.deliver({ text: "/model premium", staffId: "root" });
    expect(lastText()).toContain("已切换到模型 **premium**");
  });

  it("fallbacks skip entries the sender may not use", async () => {
    w.llm.fault("server_error", { match: { model: "glm-4.7" }, sticky: true });
    const group = { type: "group" as const, conversationId: "cidFallback==" };
    await w.deliver({ ...group, text: "主模型坏了", staffId: "emp" });
    expect(models()).toEqual(["glm-4.7", "deepseek-chat"]);
    await w.deliver({ ...group, text: "主模型坏了", staffId: "boss" });
    expect(models()).toEqual(["glm-4.7", "deepseek-chat", "glm-4.7", "gpt-4o"]);
  });
});
