// The loss curve: training loss and eval loss by optimizer step, drawn by uPlot (bundled into app.js at
// build time). The caption and the chart's data-points attribute say how many points it holds, so a
// person and a test read the same figure.
import uPlot from 'uplot';
import type { MetricSeries } from './api';
import { el, formatNumber, setText } from './dom';

const points = (n: number) => `${n} point${n === 1 ? '' : 's'}`;

export const CHART_SERIES = ['loss', 'eval_loss'] as const;

export class LossChart {
  readonly element: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly canvas: HTMLElement;
  private plot: uPlot | undefined;
  private resizeObserver: ResizeObserver | undefined;
  private lastKey = '';

  constructor() {
    this.caption = el('p', { class: 'chart-caption', 'data-testid': 'chart-caption' }, 'no points yet');
    this.canvas = el('div', { class: 'chart-canvas' });
    this.element = el(
      'div',
      { class: 'chart', 'data-testid': 'loss-chart', 'data-points': 0, 'data-eval-points': 0 },
      this.caption,
      this.canvas,
    );
  }

  /** Draws the series (redraws only when a point was added). */
  update(series: MetricSeries[]): void {
    const loss = series.find((s) => s.metric === 'loss')?.points ?? [];
    const evalLoss = series.find((s) => s.metric === 'eval_loss')?.points ?? [];
    const key = `${loss.length}:${loss.at(-1)?.step}:${evalLoss.length}:${evalLoss.at(-1)?.step}`;
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.element.setAttribute('data-points', String(loss.length));
    this.element.setAttribute('data-eval-points', String(evalLoss.length));
    if (loss.length === 0 && evalLoss.length === 0) {
      setText(this.caption, 'no points yet');
      return;
    }
    const last = loss.at(-1);
    setText(
      this.caption,
      `loss: ${points(loss.length)}` +
        (last ? `, step ${loss[0].step}..${last.step}, latest ${formatNumber(last.value)}` : '') +
        (evalLoss.length > 0
          ? `; eval_loss: ${points(evalLoss.length)}, latest ${formatNumber(evalLoss.at(-1)?.value)}`
          : ''),
    );

    // uPlot wants one x array and a y array per series, null where a series has no point at that step.
    const steps = [...new Set([...loss, ...evalLoss].map((p) => p.step))].sort((a, b) => a - b);
    const at = (points: MetricSeries['points']) => {
      const byStep = new Map(points.map((p) => [p.step, p.value]));
      return steps.map((s) => byStep.get(s) ?? null);
    };
    const data: uPlot.AlignedData = [steps, at(loss), at(evalLoss)];
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    this.plot = new uPlot(
      {
        width: this.width(),
        height: 260,
        scales: { x: { time: false } },
        axes: [{ label: 'step' }, { label: 'loss' }],
        series: [
          { label: 'step' },
          { label: 'loss', stroke: '#2563eb', width: 2, spanGaps: true, points: { show: false } },
          { label: 'eval_loss', stroke: '#dc2626', width: 2, spanGaps: true, points: { show: true, size: 7 } },
        ],
        legend: { live: true },
      },
      data,
      this.canvas,
    );
    this.resizeObserver = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: 260 }));
    this.resizeObserver.observe(this.element);
  }

  private width(): number {
    return Math.max(300, this.element.clientWidth - 8);
  }

  destroy(): void {
    this.resizeObserver?.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }
}
