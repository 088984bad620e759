// Who may do what: admins by staff id only, model entries by allow_from (admins pass), and the model
// a turn uses when the primary, the vision model or every entry is closed to the sender.
import { describe, expect, it } from "vitest";
import { callerOf, isAdmin, mayUseEndpoint } from "../../functions/core/access.js";
import { parseConfig } from "../../functions/core/config.js";
import { chooseModel } from "../../functions/core/model-choice.js";

const entry = (model_name: string, extra: Record<string, unknown> = {}) => ({ model_name, model: `zhipu/${model_name}`, api_key: "k-123456", ...extra });

describe("access", () => {
  it("admins are staff ids from channels.dingtalk.admins; a sender id alone never makes an admin", () => {
    const dingtalk = { admins: ["boss"] };
    expect(isAdmin(dingtalk, "boss")).toBe(true);
    expect(isAdmin(dingtalk, undefined)).toBe(false);
    expect(callerOf({ id: "boss", staffId: undefined }, dingtalk)).toEqual({ id: "boss", staffId: undefined, admin: false });
    expect(callerOf({ id: "$:x", staffId: "boss" }, dingtalk)).toEqual({ id: "boss", staffId: "boss", admin: true });
  });

  it("an entry with allow_from is for the staff it lists and admins", () => {
    const open = { allowFrom: [] };
    const closed = { allowFrom: ["boss"] };
    expect(mayUseEndpoint(open, { staffId: undefined, admin: false })).toBe(true);
    expect(mayUseEndpoint(closed, { staffId: "emp", admin: false })).toBe(false);
    expect(mayUseEndpoint(closed, { staffId: "boss", admin: false })).toBe(true);
    expect(mayUseEndpoint(closed, { staffId: "root", admin: true })).toBe(true);
  });

  it("a sender outside the primary's allow_from gets the first usable fallback, then any usable entry, else nothing", () => {
    const cfg = parseConfig({
      agents: { defaults: { model_name: "big", model_fallbacks: ["mid"], vision_model: "eye" } },
      model_list: [entry("big", { allow_from: ["boss"] }), entry("mid", { allow_from: ["lead"] }), entry("small"), entry("eye", { vision: true, allow_from: ["boss"] })],
    });
    const as = (staffId: string) => (ep: { allowFrom: string[] }) => mayUseEndpoint(ep, { staffId, admin: false });
    expect(chooseModel(cfg, undefined, false, as("boss"))).toMatchObject({ ok: true, modelName: "big" });
    expect(chooseModel(cfg, "big", false, as("lead"))).toMatchObject({ ok: true, modelName: "mid" });
    expect(chooseModel(cfg, undefined, false, as("emp"))).toMatchObject({ ok: true, modelName: "small" });
    expect(chooseModel(cfg, undefined, true, as("emp"))).toEqual({ ok: false, reason: "no_vision_model" });
    expect(chooseModel(cfg, undefined, true, as("boss"))).toMatchObject({ ok: true, modelName: "eye", switchedForVision: true });

    const closed = parseConfig({ model_list: [entry("big", { allow_from: ["boss"] })] });
    expect(closed.warnings.join("\n")).toContain("every entry has allow_from");
    expect(chooseModel(closed, undefined, false, as("emp"))).toEqual({ ok: false, reason: "no_usable_model" });
  });
});
