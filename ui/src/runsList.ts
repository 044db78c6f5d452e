// The runs list: newest first, filtered by status and model on the server (GET /v1/fine-tunes) and by
// free text on the page (id, model, dataset, step, outcome, key, schedule), refreshed every few seconds.
// The filters live in the address (#/?status=running&model=...&q=...), so a reload or a link keeps them.
import { RUN_STATUSES, type RunSummary } from './api';
import { POLL_LIST_MS, type Context, type View } from './context';
import { el, formatDuration, formatTime, replace, secondsBetween, setText } from './dom';
import { poll } from './poller';
import { statusBadge } from './statusBadge';

export interface ListFilter {
  status: string;
  model: string;
  q: string;
}

export function filterFromQuery(query: URLSearchParams): ListFilter {
  return { status: query.get('status') ?? '', model: query.get('model') ?? '', q: query.get('q') ?? '' };
}

function filterToHash(filter: ListFilter): string {
  const q = new URLSearchParams();
  if (filter.status) q.set('status', filter.status);
  if (filter.model) q.set('model', filter.model);
  if (filter.q) q.set('q', filter.q);
  const s = q.toString();
  return s ? `#/?${s}` : '#/';
}

function matchesText(run: RunSummary, q: string): boolean {
  if (!q) return true;
  const needle = q.toLowerCase();
  return [run.id, run.model, run.dataset, run.stage, run.outcome, run.status, run.idempotencyKey, run.scheduleId]
    .filter((v): v is string => typeof v === 'string')
    .some((v) => v.toLowerCase().includes(needle));
}

export function runsList(ctx: Context, initial: ListFilter): View {
  const filter = { ...initial };
  let pages = 1;
  let runs: RunSummary[] = [];
  let nextPageToken: string | null | undefined;
  const models = new Set<string>();

  const status = el(
    'select',
    { name: 'status', 'aria-label': 'status', 'data-testid': 'filter-status' },
    el('option', { value: '' }, 'any status'),
    ...RUN_STATUSES.map((s) => el('option', { value: s }, s)),
  );
  status.value = filter.status;
  const modelList = el('datalist', { id: 'models' });
  const model = el('input', {
    name: 'model',
    type: 'search',
    placeholder: 'model, e.g. Phi-3-mini-4k-instruct',
    list: 'models',
    'aria-label': 'model',
    'data-testid': 'filter-model',
  });
  model.value = filter.model;
  const search = el('input', {
    name: 'q',
    type: 'search',
    placeholder: 'text: id, dataset, step, key…',
    'aria-label': 'text',
    'data-testid': 'filter-text',
  });
  search.value = filter.q;
  const counts = el('span', { class: 'muted', 'data-testid': 'list-count' });
  const updated = el('span', { class: 'muted', 'data-testid': 'list-updated' });
  const body = el('tbody');
  const more = el('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  const table = el(
    'table',
    { class: 'runs', 'data-testid': 'runs-table' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['run', 'status', 'step', 'model', 'dataset', 'started', 'took', 'source'].map((h) => el('th', {}, h)),
      ),
    ),
    body,
  );

  const render = () => {
    const shown = runs.filter((r) => matchesText(r, filter.q));
    replace(
      body,
      ...shown.map((r) =>
        el(
          'tr',
          { 'data-run-id': r.id },
          el('td', {}, el('a', { href: `#/runs/${encodeURIComponent(r.id)}` }, r.id)),
          el('td', {}, statusBadge(r.status, r.outcome)),
          el('td', {}, r.stage ?? ''),
          el('td', {}, r.model ?? ''),
          el('td', {}, r.dataset ?? ''),
          el('td', { title: r.createdAt }, formatTime(r.createdAt)),
          el('td', {}, formatDuration(secondsBetween(r.createdAt, r.finishedAt))),
          el('td', {}, [r.source, r.scheduleId].filter(Boolean).join(' ')),
        ),
      ),
    );
    if (shown.length === 0)
      body.appendChild(el('tr', {}, el('td', { colspan: 8, class: 'muted' }, 'no runs match these filters')));
    setText(
      counts,
      filter.q ? `${shown.length} of ${runs.length} loaded runs match "${filter.q}"` : `${runs.length} runs`,
    );
    more.hidden = !nextPageToken;
    for (const r of runs) if (r.model) models.add(r.model);
    replace(modelList, ...[...models].sort().map((m) => el('option', { value: m })));
  };

  const load = async (): Promise<'continue'> => {
    const loaded: RunSummary[] = [];
    let token: string | undefined;
    for (let i = 0; i < pages; i++) {
      const page = await ctx.api.list({
        status: filter.status || undefined,
        model: filter.model || undefined,
        limit: 50,
        pageToken: token,
      });
      loaded.push(...page.data);
      nextPageToken = page.nextPageToken;
      if (!page.nextPageToken) break;
      token = page.nextPageToken;
    }
    runs = loaded;
    ctx.clearError();
    render();
    setText(updated, `updated ${formatTime(new Date().toISOString())}`);
    return 'continue';
  };

  const poller = poll(load, POLL_LIST_MS, (err) => ctx.fail(err));
  const changed = (reload: boolean) => {
    filter.status = status.value;
    filter.model = model.value.trim();
    filter.q = search.value.trim();
    history.replaceState(null, '', filterToHash(filter));
    if (reload) {
      pages = 1;
      poller.now();
    } else render();
  };
  let typing: ReturnType<typeof setTimeout> | undefined;
  status.addEventListener('change', () => changed(true));
  model.addEventListener('change', () => changed(true));
  model.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => changed(true), 500);
  });
  search.addEventListener('input', () => changed(false));
  more.addEventListener('click', () => {
    pages++;
    poller.now();
  });

  const element = el(
    'section',
    { class: 'view', 'data-testid': 'runs-view' },
    el('h1', {}, 'Fine-tune runs'),
    el(
      'form',
      { class: 'filters', role: 'search' },
      el('label', {}, 'Status ', status),
      el('label', {}, 'Model ', model),
      modelList,
      el('label', { class: 'grow' }, 'Text ', search),
    ),
    el('p', { class: 'list-meta' }, counts, ' · ', updated, ' · refreshed every 5 s'),
    table,
    more,
  );
  element.querySelector('form')?.addEventListener('submit', (e) => {
    e.preventDefault();
    changed(true);
  });
  return {
    element,
    destroy: () => {
      clearTimeout(typing);
      poller.stop();
    },
  };
}
