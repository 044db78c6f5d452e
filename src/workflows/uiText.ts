// What the Temporal UI shows about a run, in the user's words: the static summary and details a run is
// started with (what it trains, where, who asked), the current details the running workflow keeps up to date
// (step, job, endpoint), and the one-line summary of every activity call. Pure and deterministic: used by the
// client and by workflow code (docs/operations.md, In the Temporal UI).
import { DIVISIONS, NAMESPACE_DIVISION } from '../config/searchAttributes';
import type { RunSpec } from '../runSpec/schema';
import type { createActivities } from '../activities';
import { STEPS, type JanitorInput, type RunProgress, type RunSource, type StepName } from './definitions';

/** Who started (or resumed) a run: the front end, and the API key id, CLI user or schedule id behind it. */
export interface RunStarter {
  source: RunSource;
  /** The API key's id (api), the operating-system user (cli), or a caller's own name (client). */
  actor?: string;
  scheduleId?: string;
}

export interface RunStaticMetadata {
  staticSummary: string;
  staticDetails: string;
}

/**
 * Temporal refuses a summary whose payload exceeds 400 bytes (limit.userMetadataSummarySize) and details over
 * 20,000 (limit.userMetadataDetailsSize): a refused activity summary would fail the workflow task. The payload
 * is the JSON string, and with FTFLOW_PAYLOAD_KEY that payload serialized, base64'd and encrypted (about 1.4 ×
 * plus 150 bytes), so summaries are cut at 150 UTF-8 bytes and details at 8,000 (test/workflows/uiText.test.ts).
 */
export const MAX_SUMMARY_BYTES = 150;
export const MAX_DETAILS_BYTES = 8000;
const MAX_DETAILS_CHARS = 4000;
const MAX_TRAINING_ENTRIES = 12;

/**
 * Markdown-safe free text (training values, error messages, step details): what could emphasise, link or
 * inject HTML is escaped; an underscore inside a word (Standard_NC24ads_A100_v4) cannot, and stays readable.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*[\]<>]/g, (c) => `\\${c}`).replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, '\\_');
}

/** A name as a code span (names from the spec never contain backticks; anything else is dropped). */
function code(text: string): string {
  return `\`${text.replace(/`/g, '')}\``;
}

function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function utf8Length(char: string): number {
  const cp = char.codePointAt(0) ?? 0;
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** At most `max` UTF-8 bytes, cut on a code point and ended with "…" when cut. */
export function capBytes(text: string, max: number): string {
  const chars = [...text];
  if (chars.reduce((n, c) => n + utf8Length(c), 0) <= max) return text;
  let bytes = 3; // the ellipsis
  let out = '';
  for (const c of chars) {
    bytes += utf8Length(c);
    if (bytes > max) break;
    out += c;
  }
  return `${out}…`;
}

/** A command's one-line summary, within the size Temporal accepts (MAX_SUMMARY_BYTES). */
export function summaryText(text: string): string {
  return capBytes(text.replace(/\s+/g, ' ').trim(), MAX_SUMMARY_BYTES);
}

export function startedByText(starter: RunStarter): string {
  const actor = starter.actor ? escapeMarkdown(starter.actor) : undefined;
  switch (starter.source) {
    case 'api':
      return actor ? `API key ${actor}` : 'the HTTP API';
    case 'cli':
      return actor ? `CLI user ${actor}` : 'the CLI';
    case 'schedule':
      return `schedule ${starter.scheduleId ?? actor ?? '(unknown)'}`;
    default:
      return actor ? `client ${actor}` : 'the TypeScript client';
  }
}

function modelText(spec: RunSpec): string {
  return `${spec.model.name}${spec.model.version ? ` v${spec.model.version}` : ''}`;
}

/** A file reference without its query string or fragment (a SAS signature never reaches the UI). */
function fileText(ref: string): string {
  return code(ref.replace(/[?#].*$/, ''));
}

function datasetShort(dataset: RunSpec['dataset']): string {
  return `${dataset.files ? 'own files' : dataset.source} ${dataset.percent}%`;
}

function datasetLine(dataset: RunSpec['dataset']): string {
  const slice =
    dataset.sampling?.method === 'hash'
      ? `${dataset.percent}% sampled by hash (seed ${dataset.sampling.seed})`
      : `the first ${dataset.percent}%`;
  if (dataset.files)
    return `**Dataset** files: train ${fileText(dataset.files.train)}, test ${fileText(dataset.files.test)}, scoring ${fileText(dataset.files.scoring)}; ${slice} of each`;
  return `**Dataset** ${code(dataset.source)} at ${code(dataset.revision)}: train ${code(dataset.trainSplit)}, test ${code(dataset.testSplit)}, scoring ${code(dataset.scoringSplit)}; ${slice} of each split`;
}

function trainingLine(training: RunSpec['training']): string {
  const entries = Object.entries(training);
  if (entries.length === 0) return "**Training** the notebook's and the model's defaults";
  const shown = entries
    .slice(0, MAX_TRAINING_ENTRIES)
    .map(([k, v]) => `${code(k)} ${escapeMarkdown(cap(String(v), 40))}`)
    .join(', ');
  const more = entries.length > MAX_TRAINING_ENTRIES ? `, and ${entries.length - MAX_TRAINING_ENTRIES} more` : '';
  return `**Training** ${shown}${more} (over the notebook's and the model's defaults)`;
}

function gateAndBudgetLine(spec: RunSpec): string | undefined {
  const gate = Object.entries(spec.qualityGate).map(([metric, bound]) =>
    [
      bound.min !== undefined ? `${code(metric)} at least ${bound.min}` : '',
      bound.max !== undefined ? `${code(metric)} at most ${bound.max}` : '',
    ]
      .filter((t) => t !== '')
      .join(', '),
  );
  const parts = [
    gate.length > 0 ? `**Quality gate** ${gate.join('; ')}` : '',
    spec.budget.maxTrainingMinutes !== undefined ? `**Training budget** ${spec.budget.maxTrainingMinutes} min` : '',
  ].filter((p) => p !== '');
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

interface StaticMetadataOptions {
  startedBy: RunStarter;
  resumedBy?: RunStarter;
  idempotencyKey?: string;
}

/**
 * A run's static summary (one line) and details (markdown), set when it starts: by the client (client, CLI,
 * API, resume) and by a schedule's tick for the run it starts. A spec recorded by an older version that lacks
 * a part gets a summary that says who started it, never an error (a resume or a tick must not fail on it).
 */
export function runStaticMetadata(spec: RunSpec, opts: StaticMetadataOptions): RunStaticMetadata {
  try {
    return describeSpec(spec, opts);
  } catch {
    const who = startedByText(opts.startedBy);
    return { staticSummary: summaryText(`fine-tune · ${who}`), staticDetails: `**Started by** ${who}` };
  }
}

function describeSpec(spec: RunSpec, opts: StaticMetadataOptions): RunStaticMetadata {
  const who = startedByText(opts.startedBy);
  const resumed = opts.resumedBy ? ` · resumed by ${startedByText(opts.resumedBy)}` : '';
  const staticSummary = summaryText(
    `${modelText(spec)} on ${datasetShort(spec.dataset)} · cluster ${spec.compute.name} · ${who}${resumed}`,
  );
  const chosen = 'size chosen by the run from the allow list';
  const lines = [
    `**Model** ${code(`${spec.model.registry}/${spec.model.name}`)}, version ${spec.model.version ?? 'latest'} · component ${code(spec.pipelineComponent.name)} ${spec.pipelineComponent.version ?? 'latest'}`,
    datasetLine(spec.dataset),
    trainingLine(spec.training),
    `**Compute** cluster ${code(spec.compute.name)}, ${spec.compute.vmSize ? code(spec.compute.vmSize) : chosen}, up to ${spec.compute.maxNodes} node(s)`,
    `**Endpoint** deployment ${code(spec.deployment.name)} on ${spec.deployment.instanceType ? code(spec.deployment.instanceType) : chosen} × ${spec.deployment.instanceCount}${spec.deployment.keepAliveMinutes > 0 ? `; kept ${spec.deployment.keepAliveMinutes} min after the smoke test` : '; deleted after the smoke test'}`,
    gateAndBudgetLine(spec),
    `**Started by** ${who}${opts.idempotencyKey !== undefined ? ` · idempotency key ${code(opts.idempotencyKey)}` : ''}`,
    opts.resumedBy
      ? `**Resumed by** ${startedByText(opts.resumedBy)} (every step adopts what Azure already has)`
      : undefined,
    "**While it runs** the current details show the step, the job and the endpoint; the Azure job's status and latest loss are in awaitPipeline's heartbeat (Pending Activities) and in `ftflow status`",
  ].filter((l): l is string => l !== undefined);
  return { staticSummary, staticDetails: capBytes(lines.join('\n\n'), MAX_DETAILS_BYTES) };
}

/** What each step is doing while it runs. */
const DOING: Record<StepName, string> = {
  authenticate: 'getting a token for Azure and reading the workspace',
  resolveModel: 'reading the model, its allow lists and the pipeline component',
  stageDataset: 'validating the dataset rows and uploading the slices',
  validateCompute: 'finding or creating the cluster',
  submitPipeline: 'submitting the training job',
  awaitPipeline: 'following the training job in Azure',
  collectMetrics: "reading the job's metrics from MLflow",
  registerModel: 'registering the trained model',
  deployEndpoint: 'creating the online endpoint and its deployment',
  smokeScore: 'sending one conversation to the endpoint',
  deleteEndpoint: 'deleting the endpoint',
};

const MARK: Record<RunProgress['steps'][number]['status'], string> = {
  pending: '·',
  running: '▶',
  completed: '✓',
  failed: '✗',
  cancelled: '⊘',
  skipped: '–',
};

function clock(iso: string | undefined): string {
  return iso ? `${iso.slice(11, 19)} UTC` : '';
}

function headline(p: RunProgress): string {
  const running = p.steps.findIndex((s) => s.status === 'running');
  if (p.status === 'running') {
    if (running >= 0) {
      const step = p.steps[running];
      return `**Step ${running + 1} of ${STEPS.length}: ${step.name}** (since ${clock(step.startedAt)}): ${DOING[step.name]}`;
    }
    if (p.endpointExpiresAt)
      return `**Serving** the endpoint until ${p.endpointExpiresAt} (deployment.keepAliveMinutes)`;
    return p.currentStep ? `**After ${p.currentStep}**` : '**Starting**';
  }
  const where = p.currentStep ? ` at ${p.currentStep}` : '';
  switch (p.outcome ?? p.status) {
    case 'succeeded':
      return '**Succeeded**: every step done, the endpoint deleted';
    case 'cancelled':
      return `**Cancelled**${where}; cleanup done`;
    case 'quality-gate-failed':
      return '**Quality gate failed**: nothing registered, no endpoint';
    case 'training-budget-exceeded':
      return '**Training budget exceeded**: the job was cancelled';
    default:
      return `**Failed**${where}`;
  }
}

/**
 * The run's current details (markdown) from its progress record: the step and what it does, each step's mark,
 * the job, the endpoint, the metrics. The workflow sets them whenever the record changes; the UI reads them with
 * the built-in metadata query, so they add nothing to the history. `studioUrl` is known once awaitPipeline ends.
 */
export function currentDetails(p: RunProgress, extra: { studioUrl?: string } = {}): string {
  const lines = [headline(p), p.steps.map((s) => `${MARK[s.status]} ${s.name}`).join(' · ')];
  const compute = p.steps.find((s) => s.name === 'validateCompute');
  if (compute?.status === 'completed' && compute.detail) lines.push(`**Compute** ${escapeMarkdown(compute.detail)}`);
  const job = p.steps.find((s) => s.name === 'awaitPipeline');
  const submitted = p.steps.find((s) => s.name === 'submitPipeline')?.status === 'completed';
  if (submitted) {
    const status = job?.status === 'completed' && job.detail ? `: ${escapeMarkdown(job.detail)}` : '';
    const studio = extra.studioUrl ? ` ([Azure ML studio](${extra.studioUrl.replace(/[()\s]/g, '')}))` : '';
    lines.push(`**Job** ${code(p.jobName)}${status}${studio}`);
  }
  if (job?.status === 'running')
    lines.push(
      "**Live figures** the job's Azure status, step and loss travel in awaitPipeline's heartbeat: Pending Activities below, or `ftflow status`",
    );
  const deploy = p.steps.find((s) => s.name === 'deployEndpoint');
  const deletion = p.steps.find((s) => s.name === 'deleteEndpoint');
  if (deploy && deploy.status !== 'pending' && deploy.status !== 'skipped') {
    const state =
      deletion?.status === 'completed'
        ? (deletion.detail ?? 'deleted')
        : deletion?.status === 'running'
          ? 'being deleted'
          : p.endpointExpiresAt
            ? `serving until ${p.endpointExpiresAt}`
            : deploy.status === 'running'
              ? 'being created'
              : 'exists';
    lines.push(`**Endpoint** ${code(p.endpointName)}: ${escapeMarkdown(state)}`);
  }
  if (p.metrics && Object.keys(p.metrics).length > 0)
    lines.push(
      `**Metrics** ${Object.entries(p.metrics)
        .sort(([a], [b]) => a.localeCompare(b))
        .slice(0, 6)
        .map(([k, v]) => `${code(k)} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
        .join(' · ')}`,
    );
  if (p.warnings.length > 0) lines.push(`**Warnings** ${p.warnings.length}: \`ftflow status\` lists them`);
  if (p.error) lines.push(`**Error** ${escapeMarkdown(cap(p.error, 500))}`);
  return cap(lines.join('\n\n'), MAX_DETAILS_CHARS);
}

type Activities = ReturnType<typeof createActivities>;

/** Each activity call's one-line summary (shown beside the call in the UI's history and timeline). */
export const ACTIVITY_SUMMARIES: { [K in keyof Activities]: (...args: Parameters<Activities[K]>) => string } = {
  authenticate: () => 'authenticate to Azure and read the workspace',
  resolveModel: (model, check) =>
    `resolve ${model.registry}/${model.name} ${model.version ?? 'latest'} and check the training inputs${check?.compute ? '; choose the sizes left unset' : ''}`,
  stageDataset: ({ dataset }) => `stage ${dataset.percent}% of ${dataset.files ? 'the given files' : dataset.source}`,
  validateCompute: ({ compute, model }) =>
    `find or create cluster ${compute.name}${compute.vmSize ? ` (${compute.vmSize})` : ''} for ${model.name}`,
  submitPipeline: ({ spec, model, compute }) =>
    `submit ${spec.pipelineComponent.name} for ${model.name} v${model.version} on ${compute.name}`,
  awaitPipeline: (jobName) => `follow job ${jobName} until it ends`,
  cancelPipeline: (jobName) => `cancel job ${jobName} unless it finished (cleanup)`,
  collectMetrics: ({ jobName }) => `collect the metrics of job ${jobName}`,
  registerModel: ({ modelName, version }) => `register model ${modelName} version ${version}`,
  deployEndpoint: ({ endpointName, deployment }) =>
    `deploy endpoint ${endpointName} (${deployment.instanceType ?? 'size from the allow list'} × ${deployment.instanceCount})`,
  smokeScore: ({ endpointName }) => `score one conversation on endpoint ${endpointName}`,
  deleteEndpoint: (endpointName) => `delete endpoint ${endpointName}`,
  findActiveRun: (contentKey) => `look for a running run with content key ${contentKey}`,
  listTaggedEndpoints: () => 'list the endpoints finetune-flow created',
  describeRuns: (runIds) => `look up the ${runIds.length} run(s) those endpoints belong to`,
  webhookAudience: ({ owner, runWebhooks }) =>
    `find the webhook events anyone listens to (${owner ? `key ${owner}'s endpoints, ` : ''}${runWebhooks.length} in the spec)`,
  webhookTargets: ({ type }) => `find the endpoints that hear ${type}`,
  estimateCost: ({ compute, location }) =>
    `estimate what the run costs on ${compute.vmSize} in ${location} (list prices)`,
  measureCost: ({ jobNames, endpoint }) =>
    `measure what job ${jobNames.join(', ')}${endpoint ? ' and the endpoint' : ''} cost, from their timelines`,
  describeJob: ({ model, compute }) => `describe the job a run would submit for ${model.name} on ${compute.name}`,
  deliverWebhook: ({ target, messageId }) => `deliver ${messageId} to ${target.label} (signed, one attempt)`,
};

/** A janitor sweep's summary and details: scheduled (`every`) or on demand. */
export function janitorStaticMetadata(input: JanitorInput, every?: string): RunStaticMetadata {
  const what = `delete the endpoints whose run has ended${input.maxEndpointAgeHours !== undefined ? ` or that are older than ${input.maxEndpointAgeHours} h` : ''}`;
  return {
    staticSummary: summaryText(
      `janitor sweep${every ? ` every ${every}` : ' on demand'}: ${what}${input.dryRun ? ' (dry run)' : ''}`,
    ),
    staticDetails: [
      `**Janitor** lists the endpoints finetune-flow created (tag \`ftflow-created-by\`), keeps those whose run still runs, and deletes the rest${input.dryRun ? ' (dry run: reports, deletes nothing)' : ''}`,
      `**Listed** with \`${NAMESPACE_DIVISION.name} = '${DIVISIONS.janitor}'\`: sweeps stay out of the default workflow list`,
    ].join('\n\n'),
  };
}

/** A retraining schedule tick's summary and details: the run it starts is listed on its own row. */
export function tickStaticMetadata(scheduleId: string, spec: RunSpec): RunStaticMetadata {
  const run = runStaticMetadata(spec, { startedBy: { source: 'schedule', scheduleId } });
  return {
    staticSummary: summaryText(
      `retraining tick of schedule ${scheduleId}: starts ft-${scheduleId}-<time> unless a run of the same content runs`,
    ),
    staticDetails: [
      `**Tick** of retraining schedule ${code(scheduleId)}: starts the run ${code(`ft-${scheduleId}-<tick time>`)} as a child and waits for it, or defers to a running run that trains the same thing`,
      `**Listed** with \`${NAMESPACE_DIVISION.name} = '${DIVISIONS.scheduleTicks}'\`; the run has its own row in the default list`,
      `**The run** ${run.staticSummary}`,
    ].join('\n\n'),
  };
}
