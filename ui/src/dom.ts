// Building the page with DOM calls only: text goes in as text (textContent), never as HTML, so nothing a
// run, an event or an error message holds can become markup or script (eslint forbids innerHTML in ui/).

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined>;

/** An element with attributes (false/undefined: left out) and children (strings become text nodes). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? text(String(child)) : child);
  }
}

export function text(value: string): Text {
  return document.createTextNode(value);
}

/** Replaces an element's children. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** Sets an element's text when it changed (polling redraws without flicker or lost selections). */
export function setText(node: Element, value: string): void {
  if (node.textContent !== value) node.textContent = value;
}

/** A link only to http(s) addresses: anything else (javascript:, data:) is shown as text. */
export function externalLink(href: string | undefined, label: string): HTMLElement {
  if (href) {
    try {
      const url = new URL(href);
      if (url.protocol === 'https:' || url.protocol === 'http:')
        return el('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer' }, label);
    } catch {
      // not a URL: shown as text below
    }
  }
  return el('span', {}, href ?? label);
}

/** "2026-11-21 06:40:04" in the browser's time zone; "" for nothing. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** "42 s", "3 min 12 s", "2 h 05 min". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export function secondsBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (!from) return undefined;
  const start = Date.parse(from);
  const end = to ? Date.parse(to) : Date.now();
  return Number.isNaN(start) || Number.isNaN(end) ? undefined : Math.max(0, (end - start) / 1000);
}

/** A number with at most four significant decimals ("1.2845", "0.0002", "3"). */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '';
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 1e-3 ? String(Number(value.toFixed(4))) : value.toExponential(2);
}
