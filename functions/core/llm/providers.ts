// Provider registry: the OpenAI-compatible base URL of each known `provider/` prefix in `model`.

export const PROVIDERS: Readonly<Record<string, string>> = {
  zhipu: "https://open.bigmodel.cn/api/paas/v4",
  qwen: "https://dashscope.aliyuncs.com/compatible-mode/v1",
  dashscope: "https://dashscope.aliyuncs.com/compatible-mode/v1",
  deepseek: "https://api.deepseek.com",
  moonshot: "https://api.moonshot.cn/v1",
  openai: "https://api.openai.com/v1",
};

export function providerBaseUrl(provider: string): string | undefined {
  return Object.hasOwn(PROVIDERS, provider) ? PROVIDERS[provider] : undefined;
}

/** The known prefixes, for messages ("known: zhipu, qwen, …"). */
export const PROVIDER_NAMES: readonly string[] = Object.keys(PROVIDERS);
