// classifyError against providers' real error shapes (as the openai SDK surfaces them), plus
// network/SDK/parse failures, and the secret scrubbing of error details.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { classifyError, detailOf, scrubDetail } from "../../functions/core/llm/errors.js";
import { LlmError } from "../../functions/core/llm/index.js";
import { registerSecret } from "../../functions/core/log.js";

/** What the SDK throws for an HTTP error response with this status and JSON body. */
const http = (status: number, body: unknown) => APIError.generate(status, body as object, undefined, new Headers());
/** What the SDK throws for `data: {"error": …}` inside an SSE stream. */
const midStream = (error: unknown) => new APIError(undefined, error as object, undefined, new Headers());

const cases: Array<[string, unknown, ReturnType<typeof classifyError>]> = [
  // DashScope / Qwen (compatible mode)
  [
    "DashScope data_inspection_failed 400",
    http(400, {
      error: {
        code: "data_inspection_failed",
        param: null,
        message: "Input data may contain inappropriate content.",
        type: "data_inspection_failed",
      },
      id: "chatcmpl-1",
      request_id: "1",
    }),
    "moderation",
  ],
  [
    "DashScope output moderation mid-stream",
    midStream({
      code: "data_inspection_failed",
      message: "Output data may contain inappropriate content.",
      type: "data_inspection_failed",
    }),
    "moderation",
  ],
  [
    "DashScope native DataInspectionFailed",
    http(400, { error: { code: "DataInspectionFailed", message: "Input or output data may contain inappropriate content." } }),
    "moderation",
  ],
  [
    "DashScope Arrearage 400",
    http(400, {
      error: {
        code: "Arrearage",
        param: null,
        message: "Access denied, please make sure your account is in good standing.",
        type: "Arrearage",
      },
    }),
    "quota",
  ],
  [
    "DashScope Throttling.AllocationQuota 429",
    http(429, { error: { code: "Throttling.AllocationQuota", message: "Allocated quota exceeded, please increase your quota limit." } }),
    "rate_limit",
  ],
  [
    "DashScope input too long",
    http(400, { error: { code: "InvalidParameter", message: "Range of input length should be [1, 30720]" } }),
    "context_length",
  ],
  ["DashScope InvalidApiKey 401", http(401, { error: { code: "invalid_api_key", message: "Incorrect API key provided." } }), "auth"],
  // Zhipu
  [
    "Zhipu 1301 sensitive content 400",
    http(400, { error: { code: "1301", message: "系统检测到输入或生成内容可能包含不安全或敏感内容，请您避免输入易产生敏感内容的提示语，感谢您的配合。" } }),
    "moderation",
  ],
  ["Zhipu 1301 mid-stream", midStream({ code: "1301", message: "系统检测到输入或生成内容可能包含不安全或敏感内容" }), "moderation"],
  ["Zhipu 1113 arrears (HTTP 429)", http(429, { error: { code: "1113", message: "您的账户已欠费，请充值后重试。" } }), "quota"],
  ["Zhipu 1261 prompt too long", http(400, { error: { code: "1261", message: "Prompt 超长" } }), "context_length"],
  ["Zhipu 1302 concurrency", http(429, { error: { code: "1302", message: "您当前使用该API的并发数过高，请降低并发，或联系客服增加限额。" } }), "rate_limit"],
  ["Zhipu 1303 frequency", http(429, { error: { code: "1303", message: "您当前使用该API的频率过高" } }), "rate_limit"],
  ["Zhipu 1305 overloaded", http(429, { error: { code: "1305", message: "该模型当前访问量过大，请您稍后再试" } }), "rate_limit"],
  ["Zhipu 1002 bad token", http(401, { error: { code: "1002", message: "Authorization Token非法，请确认Authorization Token正确传递。" } }), "auth"],
  ["Zhipu 1211 unknown model", http(400, { error: { code: "1211", message: "模型不存在，请检查模型代码。" } }), "other"],
  // DeepSeek
  [
    "DeepSeek 402 Insufficient Balance",
    http(402, { error: { message: "Insufficient Balance", type: "unknown_error", param: null, code: "invalid_request_error" } }),
    "quota",
  ],
  ["DeepSeek Content Exists Risk", http(400, { error: { message: "Content Exists Risk", type: "invalid_request_error" } }), "moderation"],
  ["DeepSeek 422 invalid parameters", http(422, { error: { message: "Invalid max_tokens value", type: "invalid_request_error" } }), "bad_request"],
  ["DeepSeek 503 overloaded", http(503, { error: { message: "Server overloaded" } }), "server"],
  // Moonshot / Kimi
  [
    "Moonshot content_filter high risk 400",
    http(400, { error: { type: "content_filter", message: "The request was rejected because it was considered high risk" } }),
    "moderation",
  ],
  [
    "Moonshot exceeded model token limit",
    http(400, {
      error: { message: "Invalid request: Your request exceeded model token limit: 262144 (requested: 269030)", type: "invalid_request_error" },
    }),
    "context_length",
  ],
  [
    "Moonshot exceeded_current_quota_error 429",
    http(429, { error: { type: "exceeded_current_quota_error", message: "Your account is suspended, please check your plan and billing details" } }),
    "quota",
  ],
  ["Moonshot rate_limit_reached_error", http(429, { error: { type: "rate_limit_reached_error", message: "max RPM reached" } }), "rate_limit"],
  // OpenAI
  [
    "OpenAI context_length_exceeded",
    http(400, {
      error: {
        message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 8227 tokens.",
        type: "invalid_request_error",
        param: "messages",
        code: "context_length_exceeded",
      },
    }),
    "context_length",
  ],
  [
    "OpenAI insufficient_quota 429",
    http(429, {
      error: {
        message: "You exceeded your current quota, please check your plan and billing details.",
        type: "insufficient_quota",
        param: null,
        code: "insufficient_quota",
      },
    }),
    "quota",
  ],
  [
    "OpenAI rate limit 429",
    http(429, { error: { message: "Rate limit reached for gpt-4o on tokens per min (TPM)", type: "tokens", code: "rate_limit_exceeded" } }),
    "rate_limit",
  ],
  [
    "Azure content_filter 400",
    http(400, { error: { code: "content_filter", message: "The response was filtered due to the prompt triggering content management policy." } }),
    "moderation",
  ],
  ["OpenAI 401 invalid_api_key", http(401, { error: { code: "invalid_api_key", message: "Incorrect API key provided: sk-abc***xyz." } }), "auth"],
  ["403 permission denied", http(403, { error: { message: "Project does not have access to model" } }), "auth"],
  ["404 no such model", http(404, { error: { message: "The model `gpt-9` does not exist" } }), "other"],
  ["500 without body", http(500, undefined), "server"],
  ["502 text body", APIError.generate(502, undefined, "Bad Gateway", new Headers()), "server"],
  ["408 request timeout", http(408, undefined), "timeout"],
  ["400 plain bad request", http(400, { error: { message: "messages: must not be empty" } }), "bad_request"],
  ["unknown mid-stream error", midStream({ message: "upstream died" }), "server"],
  // transport and parsing
  ["SDK timeout", new APIConnectionTimeoutError(), "timeout"],
  [
    "connection refused",
    new APIConnectionError({ cause: new TypeError("fetch failed", { cause: Object.assign(new Error("connect"), { code: "ECONNREFUSED" }) }) }),
    "network",
  ],
  ["undici fetch failed", new TypeError("fetch failed"), "network"],
  ["DNS failure", Object.assign(new Error("getaddrinfo ENOTFOUND x"), { code: "ENOTFOUND" }), "network"],
  ["malformed JSON", new SyntaxError("Unexpected end of JSON input"), "server"],
  ["schema mismatch", z.object({ a: z.string() }).safeParse({}).error, "server"],
  ["user abort", new APIUserAbortError(), "other"],
  ["our own LlmError", new LlmError("moderation", "x"), "moderation"],
  ["anything else", new Error("boom"), "other"],
  ["a non-error", "string thrown", "other"],
];

describe("classifyError", () => {
  for (const [name, err, kind] of cases) it(`${name} → ${kind}`, () => expect(classifyError(err)).toBe(kind));
});

describe("error details", () => {
  it("removes keys, masked keys and registered secrets", () => {
    registerSecret("zhipu-secret-abcdef123");
    expect(scrubDetail("Incorrect API key provided: sk-proj-abcdefghijklmnop, retry")).toBe("Incorrect API key provided: ***, retry");
    expect(scrubDetail("key bad********99 rejected")).toBe("key *** rejected");
    expect(scrubDetail("token zhipu-secret-abcdef123 invalid")).toBe("token *** invalid");
    expect(scrubDetail("Authorization: Bearer abcdefgh1234")).toBe("Authorization: ***");
    expect(scrubDetail("id 0123456789abcdef0123456789abcdef.AbCdEfGh")).toBe("id ***");
    expect(scrubDetail("x".repeat(500)).length).toBeLessThanOrEqual(200);
  });

  it("describes an API error by its code and message, a connection error by its cause code", () => {
    expect(detailOf(http(429, { error: { code: "1113", message: "您的账户已欠费" } }))).toBe("1113: 您的账户已欠费");
    const refused = new APIConnectionError({
      cause: new TypeError("fetch failed", { cause: Object.assign(new Error("connect"), { code: "ECONNREFUSED" }) }),
    });
    expect(detailOf(refused)).toBe("Connection error. (ECONNREFUSED)");
  });
});
