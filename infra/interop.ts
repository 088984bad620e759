// The client class of an Alibaba Cloud "tea" SDK (CommonJS with `exports.default`), whichever way the
// importer's loader interops: Node's ESM gives `module.exports` (class under `.default`), a CommonJS
// transform (tsx's require hook, used when osls loads the plugin) gives the class itself.
export function sdkClass<T>(imported: { default: T }): T {
  const value: unknown = imported;
  return typeof value === "function" ? (value as T) : imported.default;
}
