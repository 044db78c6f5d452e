// A run's status as a coloured label (the class names are in app.css).
import { el } from './dom';

export function statusBadge(status: string, outcome?: string): HTMLElement {
  const label = outcome && outcome !== status ? `${status} (${outcome})` : status;
  return el('span', { class: `status status-${status}`, 'data-testid': 'status', 'data-status': status }, label);
}
