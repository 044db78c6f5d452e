// What every view of the dashboard is given: the API client with the session's key, what the key may do,
// which optional routes the server has, and where errors go.
import type { Api, ApiKeyInfo } from './api';

export interface Context {
  api: Api;
  key: ApiKeyInfo;
  /** The key has fine-tunes:write: cancel, resume and keep-alive are offered (the server checks anyway). */
  canWrite: boolean;
  /** The server's OpenAPI document lists POST /v1/fine-tunes/{id}/keep-alive. */
  keepAliveRoute: boolean;
  /** Shows an error; a key the API no longer accepts (401) ends the session. */
  fail(err: unknown): void;
  /** Clears the error shown by fail(). */
  clearError(): void;
}

/** A page of the dashboard: its element, and what to stop (pollers, charts) when it is left. */
export interface View {
  element: HTMLElement;
  destroy(): void;
}

export const POLL_RUN_MS = 2000;
export const POLL_LIST_MS = 5000;
