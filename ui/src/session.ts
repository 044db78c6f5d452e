// The API key for this tab only: sessionStorage, which the browser drops when the tab closes and never
// sends anywhere. Never a cookie (sent with every request, readable by other tabs) nor localStorage (kept
// on disk after the browser closes).

const KEY_ITEM = 'ftflow.apiKey';

export function storedKey(): string | undefined {
  try {
    return sessionStorage.getItem(KEY_ITEM) ?? undefined;
  } catch {
    return undefined;
  }
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY_ITEM, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY_ITEM);
}
