// The run's record: how it ended, what it cost, its metrics, warnings, notes and error, and the whole record as the API
// returns it (GET /v1/fine-tunes/{id}), as text.
import type { RunCost, RunRecord } from './api';
import { el, formatDuration, formatNumber, replace, secondsBetween, setText } from './dom';

export class RecordView {
  readonly element: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly cost: HTMLElement;
  private readonly metrics: HTMLElement;
  private readonly messages: HTMLElement;
  private readonly json: HTMLElement;

  constructor() {
    this.summary = el('p', { 'data-testid': 'record-summary' });
    this.cost = el('p', { 'data-testid': 'record-cost', hidden: true });
    this.metrics = el('div', { 'data-testid': 'record-metrics' });
    this.messages = el('div');
    this.json = el('pre', { class: 'json', 'data-testid': 'record-json' });
    this.element = el(
      'section',
      { class: 'card', 'data-testid': 'record' },
      el('h2', {}, 'Record'),
      this.summary,
      this.cost,
      this.metrics,
      this.messages,
      el('details', {}, el('summary', {}, 'The whole record (JSON)'), this.json),
    );
  }

  update(run: RunRecord): void {
    const took = formatDuration(secondsBetween(run.createdAt, run.finishedAt));
    setText(
      this.summary,
      run.status === 'running'
        ? `running for ${took}${run.currentStep ? `, on ${run.currentStep}` : ''}`
        : `${run.outcome ?? run.status} after ${took}`,
    );
    const cost = costText(run.cost);
    setText(this.cost, cost);
    this.cost.hidden = cost === '';
    const metrics = Object.entries(run.metrics ?? {});
    replace(
      this.metrics,
      metrics.length === 0
        ? null
        : el(
            'table',
            { class: 'metrics' },
            el('thead', {}, el('tr', {}, el('th', {}, 'metric'), el('th', {}, 'value'))),
            el(
              'tbody',
              {},
              ...metrics.map(([name, value]) =>
                el('tr', { 'data-metric': name }, el('td', {}, name), el('td', {}, formatNumber(value))),
              ),
            ),
          ),
    );
    const list = (title: string, cls: string, items: string[]) =>
      items.length === 0
        ? null
        : el('div', { class: cls }, el('h3', {}, title), el('ul', {}, ...items.map((i) => el('li', {}, i))));
    replace(
      this.messages,
      run.error ? el('p', { class: 'error' }, `error: ${run.error}`) : null,
      list('Warnings', 'warnings', run.warnings ?? []),
      list('Notes', 'notes', run.notes ?? []),
    );
    setText(this.json, JSON.stringify(run, null, 2));
  }
}

/** As the CLI prints dollars (src/cost/format.ts formatUsd). */
function usd(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'unpriced';
  if (value >= 0.1) return `$${value.toFixed(2)}`;
  return value === 0 ? '$0' : `$${value.toFixed(4)}`;
}

/** "cost: estimated $2.18 · actual $0.0031 (training $0.0020, endpoint $0.0011) · budget $25.00", or ''. */
export function costText(cost: RunCost | undefined): string {
  if (!cost) return '';
  const parts = [`estimated ${usd(cost.estimatedUsd)}`];
  if (cost.actual)
    parts.push(
      `actual ${usd(cost.actualUsd)} (training ${usd(cost.actual.training.usd)}, endpoint ${usd(cost.actual.endpoint.usd)})`,
    );
  if (cost.maxCostUsd !== undefined) parts.push(`budget ${usd(cost.maxCostUsd)}`);
  return `cost: ${parts.join(' · ')}`;
}
