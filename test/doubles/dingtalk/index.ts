// The DingTalk double for tests: the playground's simulated DingTalk (functions/playground/dingtalk),
// one implementation shared by the product and the tests. Its README documents the API.
export * from "../../../functions/playground/dingtalk/index.js";
