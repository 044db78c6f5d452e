// The step timeline: the run's eleven steps in order, each with its status, how long it took, what it
// reported, and a bar placed on the run's time axis (start of the run to its end, or now).
import type { RunRecord, StepState } from './api';
import { el, formatDuration, replace, secondsBetween } from './dom';

const MARK: Record<StepState['status'], string> = {
  pending: '·',
  running: '▶',
  completed: '✓',
  failed: '✗',
  cancelled: '■',
  skipped: '–',
};

export class Timeline {
  readonly element: HTMLElement;
  private readonly list: HTMLOListElement;

  constructor() {
    this.list = el('ol', { class: 'timeline', 'data-testid': 'timeline' });
    this.element = el('section', { class: 'card' }, el('h2', {}, 'Steps'), this.list);
  }

  update(run: RunRecord): void {
    if (!run.progressAvailable && run.steps.length === 0) {
      replace(this.list, el('li', { class: 'muted' }, 'no worker answered the progress query: steps unknown for now'));
      return;
    }
    const start = Date.parse(run.createdAt);
    const end = run.finishedAt ? Date.parse(run.finishedAt) : Date.now();
    const span = Math.max(1, end - start);
    replace(
      this.list,
      ...run.steps.map((step) => {
        const bar = el('span', { class: 'bar' });
        if (step.startedAt) {
          const from = Date.parse(step.startedAt);
          const to = step.endedAt ? Date.parse(step.endedAt) : end;
          // Styles set through the DOM (CSSOM), which the page's Content-Security-Policy allows.
          bar.style.left = `${Math.min(100, Math.max(0, ((from - start) / span) * 100))}%`;
          bar.style.width = `${Math.max(0.5, Math.min(100, ((to - from) / span) * 100))}%`;
        }
        return el(
          'li',
          { class: `step step-${step.status}`, 'data-step': step.name, 'data-step-status': step.status },
          el('span', { class: 'mark', 'aria-hidden': 'true' }, MARK[step.status] ?? '?'),
          el('span', { class: 'step-name' }, step.name),
          el('span', { class: 'step-status' }, step.status),
          el(
            'span',
            { class: 'step-took' },
            step.startedAt ? formatDuration(secondsBetween(step.startedAt, step.endedAt)) : '',
          ),
          el('span', { class: 'track' }, bar),
          el('span', { class: 'step-detail' }, step.detail ?? ''),
        );
      }),
    );
  }
}
