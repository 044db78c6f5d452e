// The dashboard's entry point (bundled into dist/ui/app.js): the login form, then the runs list (#/) and
// a run's page (#/runs/<id>). The key is checked with GET /v1/api-key, kept for this tab only
// (sessionStorage) and sent only in the Authorization header.
import { Api, ApiError, KEEP_ALIVE_PATH, READ_SCOPE, WRITE_SCOPE, serverHasRoute, type ApiKeyInfo } from './api';
import type { Context, View } from './context';
import { el, replace, setText } from './dom';
import { filterFromQuery, runsList } from './runsList';
import { runPage } from './runPage';
import { forgetKey, storeKey, storedKey } from './session';

const root = document.getElementById('app') as HTMLElement;
const who = document.getElementById('who') as HTMLElement;
const logout = document.getElementById('logout') as HTMLButtonElement;
const banner = document.getElementById('banner') as HTMLElement;

let view: View | undefined;
let context: Context | undefined;

function show(next: View): void {
  view?.destroy();
  view = next;
  replace(root, next.element);
}

function showError(message: string): void {
  banner.hidden = false;
  setText(banner, message);
}

function clearError(): void {
  banner.hidden = true;
}

function describe(err: unknown): string {
  if (err instanceof ApiError) return err.status ? `${err.message} (${err.status})` : err.message;
  return err instanceof Error ? err.message : String(err);
}

function endSession(message?: string): void {
  forgetKey();
  context = undefined;
  who.replaceChildren();
  logout.hidden = true;
  showLogin(message);
}

function showLogin(message?: string): void {
  const input = el('input', {
    type: 'password',
    name: 'key',
    autocomplete: 'off',
    required: true,
    placeholder: 'ftflow_…',
    'aria-label': 'API key',
    'data-testid': 'key',
  });
  const problem = el('p', { class: 'error', role: 'alert', 'data-testid': 'login-error', hidden: !message }, message);
  const submit = el('button', { type: 'submit', 'data-testid': 'login' }, 'Log in');
  const form = el(
    'form',
    { class: 'login card', 'data-testid': 'login-form' },
    el('h1', {}, 'finetune-flow'),
    el(
      'p',
      {},
      'Log in with an API key (ftflow api-key create). It is kept in this tab only and sent only to this server.',
    ),
    el('label', {}, 'API key ', input),
    submit,
    problem,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit.disabled = true;
    problem.hidden = true;
    startSession(input.value.trim())
      .catch((err: unknown) => {
        problem.hidden = false;
        setText(problem, describe(err));
      })
      .finally(() => (submit.disabled = false));
  });
  clearError();
  show({ element: form, destroy: () => undefined });
  input.focus();
}

async function startSession(key: string): Promise<void> {
  if (!key) throw new Error('type an API key');
  const api = new Api(key);
  let info: ApiKeyInfo;
  try {
    info = await api.whoAmI();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw new Error('this key is not known to the API');
    throw err;
  }
  if (!info.scopes.includes(READ_SCOPE)) throw new Error(`key ${info.id} lacks ${READ_SCOPE}: it cannot read runs`);
  storeKey(key);
  const canWrite = info.scopes.includes(WRITE_SCOPE);
  context = {
    api,
    key: info,
    canWrite,
    keepAliveRoute: await serverHasRoute(KEEP_ALIVE_PATH, 'post'),
    fail: (err) => {
      if (err instanceof ApiError && err.status === 401)
        endSession('The API no longer accepts this key: log in again.');
      else showError(describe(err));
    },
    clearError,
  };
  replace(
    who,
    el('span', { 'data-testid': 'who' }, `key ${info.id}`),
    ' ',
    el('span', { class: canWrite ? 'scope' : 'scope read-only' }, canWrite ? 'read & write' : 'read-only'),
  );
  logout.hidden = false;
  route();
}

function route(): void {
  if (!context) return;
  clearError();
  const hash = location.hash.replace(/^#/, '');
  const [path, query = ''] = hash.split('?');
  const run = /^\/runs\/(.+)$/.exec(path ?? '');
  if (run) {
    show(runPage(context, decodeURIComponent(run[1])));
    document.title = `${decodeURIComponent(run[1])} · finetune-flow`;
  } else {
    show(runsList(context, filterFromQuery(new URLSearchParams(query))));
    document.title = 'Runs · finetune-flow';
  }
}

window.addEventListener('hashchange', route);
logout.addEventListener('click', () => endSession());

const saved = storedKey();
if (saved) startSession(saved).catch((err: unknown) => endSession(describe(err)));
else showLogin();
