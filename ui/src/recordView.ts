// The run's record: how it ended, its metrics, warnings, notes and error, and the whole record as the API
// returns it (GET /v1/fine-tunes/{id}), as text.
import type { RunRecord } from './api';
import { el, formatDuration, formatNumber, replace, secondsBetween, setText } from './dom';

export class RecordView {
  readonly element: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly metrics: HTMLElement;
  private readonly messages: HTMLElement;
  private readonly json: HTMLElement;

  constructor() {
    this.summary = el('p', { 'data-testid': 'record-summary' });
    this.metrics = el('div', { 'data-testid': 'record-metrics' });
    this.messages = el('div');
    this.json = el('pre', { class: 'json', 'data-testid': 'record-json' });
    this.element = el(
      'section',
      { class: 'card', 'data-testid': 'record' },
      el('h2', {}, 'Record'),
      this.summary,
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
