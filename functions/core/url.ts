// The one check for a configurable base URL (API bases, table and FC endpoints): http(s), a host, no
// whitespace. Trailing slashes are dropped so paths can be appended.

const HTTP_URL = /^https?:\/\/[^\s/?#]+(?:[/?#]\S*)?$/i;

export function isHttpUrl(value: string): boolean {
  return HTTP_URL.test(value);
}

/** The URL without trailing slashes ("https://api.dingtalk.com/" → "https://api.dingtalk.com"). */
export function trimSlashes(url: string): string {
  return url.replace(/\/+$/, "");
}
