// A run's events, newest first, read page by page after the last one seen (GET .../events?after=).
import type { Api, RunEvent } from './api';
import { el, formatTime, setText } from './dom';

const MAX_ROWS = 2000;

export class EventsTable {
  readonly element: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly count: HTMLElement;
  private lastId: string | undefined;
  private total = 0;

  constructor(
    private readonly api: Api,
    private readonly runId: string,
  ) {
    this.body = el('tbody');
    this.count = el('span', { class: 'muted' });
    this.element = el(
      'section',
      { class: 'card' },
      el('h2', {}, 'Events ', this.count),
      el(
        'div',
        { class: 'scroll' },
        el(
          'table',
          { class: 'events', 'data-testid': 'events' },
          el('thead', {}, el('tr', {}, ...['time', 'level', 'type', 'step', 'message'].map((h) => el('th', {}, h)))),
          this.body,
        ),
      ),
    );
  }

  /** Reads what happened since the last event shown (a few pages at most per call). */
  async refresh(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const page = await this.api.events(this.runId, this.lastId);
      this.add(page.data);
      if (page.lastId) this.lastId = page.lastId;
      if (!page.hasMore) break;
    }
  }

  private add(events: RunEvent[]): void {
    for (const e of events) {
      this.total++;
      this.body.insertBefore(
        el(
          'tr',
          { class: `level-${e.level}`, 'data-event-type': e.type },
          el('td', { title: e.createdAt }, formatTime(e.createdAt)),
          el('td', {}, e.level),
          el('td', {}, e.type),
          el('td', {}, e.step ?? ''),
          el('td', { class: 'message' }, e.message),
        ),
        this.body.firstChild,
      );
    }
    while (this.body.rows.length > MAX_ROWS) this.body.deleteRow(-1);
    setText(this.count, `(${this.total})`);
  }
}
