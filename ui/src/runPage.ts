// One run, live: its state and Azure job, the actions the key allows, the training figures and the loss
// curve, the step timeline, the record and the events, refreshed every 2 s while it runs. The loss curve
// is read from Azure (GET .../metrics) only when the record says the training moved on, or every 15 s while
// the job runs, and once more when the run ends.
import { ApiError, type MetricSeries, type RunRecord } from './api';
import { POLL_RUN_MS, type Context, type View } from './context';
import { el, externalLink, formatDuration, formatNumber, formatTime, replace, setText } from './dom';
import { EventsTable } from './eventsTable';
import { CHART_SERIES, LossChart } from './lossChart';
import { poll } from './poller';
import { RecordView } from './recordView';
import { RunActions } from './runActions';
import { statusBadge } from './statusBadge';
import { Timeline } from './timeline';

const METRICS_EVERY_MS = 15_000;
/** Azure job states before the training logs anything. */
const BEFORE_TRAINING = new Set(['NotStarted', 'Queued', 'Preparing', 'Starting', 'Provisioning']);

/** What the run's endpoint is doing, from its deploy and delete steps and the keep-alive time. */
function endpointState(run: RunRecord): string {
  const status = (name: string) => run.steps.find((s) => s.name === name)?.status;
  if (status('deleteEndpoint') === 'completed') return 'deleted';
  if (status('deleteEndpoint') === 'running') return 'being deleted';
  if (run.endpointExpiresAt) return `kept alive until ${formatTime(run.endpointExpiresAt)}`;
  if (status('deployEndpoint') === 'completed') return 'serving';
  if (status('deployEndpoint') === 'running') return 'being deployed';
  return 'not deployed';
}

function field(label: string, value: Node | string, testId?: string): HTMLElement[] {
  return [el('dt', {}, label), el('dd', testId ? { 'data-testid': testId } : {}, value)];
}

export function runPage(ctx: Context, runId: string): View {
  const title = el('h1', {}, runId, ' ');
  const badge = el('span', {});
  title.appendChild(badge);
  const facts = el('dl', { class: 'facts', 'data-testid': 'run-facts' });
  const jobStatus = el('span', { 'data-testid': 'job-status' });
  const trainingFacts = el('dl', { class: 'facts', 'data-testid': 'training' });
  const progress = el('progress', { max: 1, value: 0, 'data-testid': 'training-progress' });
  const chartNote = el('p', { class: 'muted', 'data-testid': 'chart-note' });
  const chart = new LossChart();
  const timeline = new Timeline();
  const record = new RecordView();
  const events = new EventsTable(ctx.api, runId);
  const logLines = el('pre', { class: 'log', 'data-testid': 'log' });
  const logs = el(
    'details',
    { class: 'card' },
    el('summary', {}, "Log tail (the job's user_logs/std_log.txt)"),
    logLines,
  );
  let lastRecord: RunRecord | undefined;
  const actions = new RunActions(ctx, runId, () => poller.now());

  let metricsUnavailable: string | undefined;
  let metricsStep: number | undefined;
  let metricsReadAt = 0;
  let finalMetricsRead = false;

  const renderRecord = (run: RunRecord) => {
    replace(badge, statusBadge(run.status, run.outcome));
    setText(jobStatus, run.jobStatus ?? '');
    jobStatus.setAttribute('data-job-status', run.jobStatus ?? '');
    replace(
      facts,
      ...field('model', run.model ?? ''),
      ...field('dataset', run.dataset ?? ''),
      ...field('started', `${formatTime(run.createdAt)}${run.source ? ` (${run.source})` : ''}`),
      ...(run.finishedAt ? field('finished', formatTime(run.finishedAt)) : []),
      ...field('step', run.currentStep ?? run.stage ?? ''),
      ...field(
        'Azure job',
        el(
          'span',
          {},
          run.jobName ?? 'not submitted yet',
          run.jobStatus ? ' · ' : '',
          jobStatus,
          run.jobStatusSince ? ` since ${formatTime(run.jobStatusSince)}` : '',
          run.studioUrl ? ' · ' : '',
          run.studioUrl ? externalLink(run.studioUrl, 'open in Azure ML studio') : null,
        ),
      ),
      ...(run.endpointName ? field('endpoint', `${run.endpointName} (${endpointState(run)})`, 'endpoint') : []),
    );
    const t = run.training;
    if (t?.step !== undefined && t.totalSteps) {
      progress.max = t.totalSteps;
      progress.value = t.step;
    }
    replace(
      trainingFacts,
      ...(t
        ? [
            ...field(
              'step',
              t.step !== undefined ? `${t.step}${t.totalSteps ? ` of ${t.totalSteps}` : ''}` : '',
              'train-step',
            ),
            ...field(
              'epoch',
              t.epoch !== undefined ? `${t.epoch.toFixed(2)}${t.totalEpochs ? ` of ${t.totalEpochs}` : ''}` : '',
            ),
            ...field('train loss', formatNumber(t.trainLoss), 'train-loss'),
            ...field('eval loss', formatNumber(t.evalLoss)),
            ...field('learning rate', formatNumber(t.learningRate)),
            ...field('elapsed', formatDuration(t.elapsedSeconds)),
            ...field('ETA', run.jobStatus === 'Running' ? formatDuration(t.etaSeconds) : ''),
            ...field('GPU time', formatDuration(t.gpuSeconds)),
          ]
        : field('training', run.jobStatus ? `the job is ${run.jobStatus}` : 'not started')),
    );
    actions.update(run);
    timeline.update(run);
    record.update(run);
  };

  const readMetrics = async (run: RunRecord): Promise<void> => {
    if (metricsUnavailable !== undefined || !run.jobName) return;
    const ended = run.status !== 'running';
    if (ended && finalMetricsRead) return;
    const training = run.jobStatus !== undefined && !BEFORE_TRAINING.has(run.jobStatus);
    const moved = run.training?.step !== undefined && run.training.step !== metricsStep;
    const due = training && Date.now() - metricsReadAt > METRICS_EVERY_MS;
    if (!ended && !moved && !due) return;
    let series: MetricSeries[];
    try {
      series = await ctx.api.metrics(runId, [...CHART_SERIES]);
    } catch (err) {
      if (err instanceof ApiError && err.status === 503) {
        metricsUnavailable = err.message;
        setText(chartNote, `The loss curve cannot be read: ${err.message}`);
        return;
      }
      throw err;
    }
    metricsStep = run.training?.step;
    metricsReadAt = Date.now();
    if (ended) finalMetricsRead = true;
    chart.update(series);
    setText(chartNote, ended ? '' : `read from Azure at ${formatTime(new Date().toISOString())}`);
  };

  const tick = async (): Promise<'continue' | 'done'> => {
    let run: RunRecord;
    try {
      run = await ctx.api.get(runId);
    } catch (err) {
      // An id that names no run of this service: say so once and stop asking.
      if (!(err instanceof ApiError && err.status === 404)) throw err;
      replace(badge, el('span', { class: 'status', 'data-testid': 'not-found' }, 'not found'));
      replace(facts, el('p', { class: 'error' }, err.message));
      return 'done';
    }
    if (lastRecord?.status !== 'running' && run.status === 'running') finalMetricsRead = false;
    lastRecord = run;
    renderRecord(run);
    await events.refresh();
    await readMetrics(run);
    ctx.clearError();
    return run.status === 'running' ? 'continue' : 'done';
  };
  const poller = poll(tick, POLL_RUN_MS, (err) => ctx.fail(err));

  logs.addEventListener('toggle', () => {
    if (!logs.open) return;
    setText(logLines, 'reading…');
    ctx.api
      .logs(runId)
      .then((tail) => setText(logLines, tail.lines.length > 0 ? tail.lines.join('\n') : '(empty)'))
      .catch((err: unknown) => setText(logLines, err instanceof Error ? err.message : String(err)));
  });

  const element = el(
    'section',
    { class: 'view', 'data-testid': 'run-view', 'data-run-id': runId },
    el('p', {}, el('a', { href: '#/' }, '← all runs')),
    title,
    actions.element,
    el('div', { class: 'card' }, facts),
    el('section', { class: 'card' }, el('h2', {}, 'Training'), progress, trainingFacts, chart.element, chartNote),
    timeline.element,
    record.element,
    events.element,
    logs,
  );
  return {
    element,
    destroy: () => {
      poller.stop();
      chart.destroy();
    },
  };
}
