// The API's OpenAPI 3.1 document. The run spec's schema is generated from the shared zod schema (so it
// cannot drift from what the API validates); the rest describes the routes in src/api/routes/.
import { z } from 'zod';
import { RunSpec } from '../runSpec/schema';
import { RUN_STATUS_FILTERS } from '../config/visibility';
import { OVERLAP_POLICIES } from '../control/schedules';
import { API_SCOPES } from './keys';
import { DEFAULT_WEBHOOK_EVENTS, WEBHOOK_EVENT_TYPES } from '../runSpec/notifications';
import { MAX_ROTATION_OVERLAP_SECONDS } from '../webhooks/registry';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string): Schema => ({ type: 'string', ...(description ? { description } : {}) });
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  required,
});
const json = (schema: Schema, description: string) => ({ description, content: { 'application/json': { schema } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      json(
        ref('Error'),
        {
          400: 'invalid request (fields name each problem)',
          401: 'missing or unknown API key',
          403: 'revoked key, or a key without the scope',
          404: "no such run or schedule (also: an id that names a workflow or schedule that is not this service's)",
          409: 'conflict',
          429: 'rate limit reached (see Retry-After)',
          503: 'the API cannot reach what it needs (for metrics and logs: the Azure workspace variables)',
        }[c] ?? 'error',
      ),
    ]),
  );
const idParam = (what: string) => ({
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: what,
});
const secured = (scope: string) => ({ security: [{ bearer: [scope] }] });

function runSpecSchema(): Schema {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(RunSpec, { io: 'input', unrepresentable: 'any' }) as Schema;
  return schema;
}

const step = obj({
  name: str(),
  status: { type: 'string', enum: ['pending', 'running', 'completed', 'failed', 'cancelled', 'skipped'] },
  startedAt: str(),
  endedAt: str(),
  detail: str(),
});

const runStatus = { type: 'string', enum: Object.keys(RUN_STATUS_FILTERS) };

const fineTuneSummary = obj(
  {
    id: str('the run id (the workflow id), e.g. ft-<idempotency key>'),
    object: { const: 'fine_tune' },
    status: runStatus,
    outcome: str('succeeded, failed, cancelled, quality-gate-failed, training-budget-exceeded, cost-budget-exceeded'),
    stage: str('the step it is on or ended on'),
    model: str('registry/name'),
    dataset: str(),
    contentKey: str('what it trains; runs with the same key de-duplicate'),
    createdAt: str(),
    finishedAt: str(),
    executionId: str(),
    source: { type: 'string', enum: ['client', 'cli', 'api', 'schedule'] },
    scheduleId: str(),
    idempotencyKey: str(),
  },
  ['id', 'object', 'status', 'createdAt', 'executionId'],
);

/** The run's cost (src/cost/types.ts): US dollars at the price table's list prices. */
const runCost = obj(
  {
    currency: { const: 'USD' },
    estimatedUsd: {
      type: ['number', 'null'],
      description: 'the estimate made before the job (null: a size has no price)',
    },
    actualUsd: { type: ['number', 'null'], description: 'measured after the run: job timeline, endpoint lifetime' },
    maxCostUsd: { type: 'number', description: 'budget.maxCost' },
    estimate: ref('CostEstimate'),
    actual: {
      type: 'object',
      description: 'per job (nodes, start, end) and per deployment (instances, creation, deletion)',
    },
  },
  ['currency', 'estimatedUsd', 'actualUsd'],
);

const costEstimate = obj({
  totalUsd: { type: ['number', 'null'] },
  training: {
    type: 'object',
    description: 'vmSize, count (nodes), hours, usdPerHour, usd, tokens, epochs, GPUs, throughput',
  },
  endpoint: {
    type: 'object',
    description: 'vmSize (instance type), count, hours, usdPerHour, usd, the minutes assumed',
  },
  prices: obj({ currency: str(), region: str(), priceType: str(), snapshot: str(), source: str() }),
  assumptions: { type: 'array', items: str() },
  warnings: { type: 'array', items: str() },
});

const plan = obj(
  {
    object: { const: 'fine_tune_plan' },
    runId: str('the run id a start would use: ft-<Idempotency-Key>, or an example without one'),
    namesFixed: { type: 'boolean', description: 'true with an Idempotency-Key: a start uses these very names' },
    names: obj({
      jobName: str(),
      endpointName: str(),
      deploymentName: str(),
      registeredModel: str(),
      modelVersion: str("'next': the model's next integer version, chosen when the run registers it"),
      experimentName: str(),
      computeName: str(),
      blobs: obj({ train: str(), test: str(), scoring: str() }),
    }),
    workspace: obj({ workspace: str(), location: str() }),
    model: obj({ registry: str(), name: str(), version: str(), assetId: str() }),
    compute: obj({ name: str(), vmSize: str(), gpusPerNode: { type: 'number' }, wouldCreate: { type: 'boolean' } }),
    deployment: obj({ instanceType: str(), instanceCount: { type: 'number' }, keepAliveMinutes: { type: 'number' } }),
    job: obj({
      componentId: str(),
      displayName: str(),
      parameters: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'the merged training inputs',
      },
    }),
    data: {
      type: 'object',
      description:
        'revision and content key; per split: rows, bytes, blob path, preview (complete, rowsRead, estimated)',
    },
    cost: ref('CostEstimate'),
    maxCostUsd: { type: 'number' },
    warnings: { type: 'array', items: str() },
  },
  ['object', 'runId', 'names', 'cost', 'warnings'],
);

const fineTune = {
  allOf: [
    fineTuneSummary,
    obj({
      spec: ref('RunSpec'),
      currentStep: str(),
      steps: { type: 'array', items: step },
      jobName: str(),
      jobStatus: str(
        "the Azure job's latest status: NotStarted, Queued, Preparing, Running, Finalizing, Completed, Failed, Canceled, ...",
      ),
      jobStatusSince: str('since when the job has had that status, as the follower saw it'),
      studioUrl: str('the job in Azure ML studio'),
      training: ref('Training'),
      metricsLog: { type: 'array', items: ref('MetricsEntry'), description: 'bounded: at most 40 entries per run' },
      endpointName: str(),
      endpointExpiresAt: str(),
      metrics: { type: 'object', additionalProperties: { type: 'number' } },
      cost: ref('RunCost'),
      warnings: { type: 'array', items: str(), description: 'what needs action' },
      notes: {
        type: 'array',
        items: str(),
        description: 'what needs no action (defaults the component does not declare, dropped)',
      },
      error: str(),
      progressAvailable: { type: 'boolean' },
      result: ref('FineTuneResult'),
    }),
  ],
};

const datasetSplit = obj(
  {
    split: str(),
    uri: str('azureml://datastores/<datastore>/paths/<path>'),
    sha256: str('content hash, hex'),
    sha256Of: {
      type: 'string',
      enum: ['blocks', 'bytes'],
      description: "blocks: sha256 over the sha256 of the blob's committed blocks, in order; bytes: of the file",
    },
    rows: { type: 'integer', description: 'rows written after validation' },
    sourceRows: { type: 'integer', description: 'rows taken from the source' },
    bytes: { type: 'integer' },
    invalidRows: { type: 'integer' },
    sampling: str('"first 5%" or "hash(seed 7) 5%"'),
  },
  ['split', 'uri', 'sha256', 'rows', 'sourceRows', 'bytes', 'invalidRows'],
);

/** A succeeded run's record: src/control/runResult.ts (the CLI's `ftflow result` and the client's result() too). */
const fineTuneResult = obj(
  {
    id: str('the run id'),
    object: { const: 'fine_tune.result' },
    status: { const: 'succeeded' },
    executionId: str(),
    finishedAt: str(),
    baseModel: obj({ registry: str(), name: str(), version: str(), assetId: str() }, [
      'registry',
      'name',
      'version',
      'assetId',
    ]),
    registeredModel: obj({ name: str(), version: str('an integer: "1", "2", ...'), id: str('its ARM id') }, [
      'name',
      'version',
      'id',
    ]),
    dataset: obj(
      {
        source: str(),
        revision: str(),
        train: ref('DatasetSplit'),
        test: ref('DatasetSplit'),
        scoring: ref('DatasetSplit'),
      },
      ['revision', 'train', 'test', 'scoring'],
    ),
    compute: obj({ name: str(), vmSize: str(), gpusPerNode: { type: 'integer' } }, ['name', 'vmSize', 'gpusPerNode']),
    job: obj(
      {
        name: str(),
        status: str(),
        studioUrl: str('the job in Azure ML studio'),
        displayName: str(),
        componentId: str(),
      },
      ['name', 'status', 'displayName', 'componentId'],
    ),
    metrics: { type: 'object', additionalProperties: { type: 'number' } },
    qualityGate: obj({ passed: { type: 'boolean' }, checks: { type: 'array', items: { type: 'object' } } }),
    endpoint: obj(
      {
        name: str(),
        instanceType: str(),
        scoringUri: str(),
        servedSeconds: { type: 'number', description: 'from deployment to deletion, keep-alive included' },
        deleted: { type: 'boolean' },
      },
      ['name', 'servedSeconds', 'deleted'],
    ),
    smokeScore: obj(
      {
        prompt: str('the start of the prompt sent (at most 120 characters)'),
        reply: str('the start of the reply (at most 200 characters)'),
        replyChars: { type: 'integer' },
        latencyMs: { type: 'number' },
      },
      ['prompt', 'reply', 'replyChars', 'latencyMs'],
    ),
    cost: ref('RunCost'),
    warnings: { type: 'array', items: str(), description: 'what needs action' },
    notes: { type: 'array', items: str(), description: 'what needs no action' },
  },
  [
    'id',
    'object',
    'status',
    'executionId',
    'baseModel',
    'registeredModel',
    'dataset',
    'compute',
    'job',
    'metrics',
    'qualityGate',
    'endpoint',
    'smokeScore',
    'warnings',
    'notes',
  ],
);

const training = obj(
  {
    step: { type: 'integer', description: 'the optimizer step of the latest logged point' },
    totalSteps: { type: 'integer', description: 'steps per epoch × epochs' },
    epoch: { type: 'number' },
    totalEpochs: { type: 'number' },
    trainLoss: { type: 'number', description: "the latest training loss (the Trainer's `loss`)" },
    evalLoss: { type: 'number' },
    learningRate: { type: 'number' },
    trainingStartedAt: str(),
    elapsedSeconds: { type: 'number', description: 'how long the training has run' },
    gpuSeconds: { type: 'number', description: 'elapsedSeconds × GPUs per node × nodes' },
    stepsPerSecond: { type: 'number' },
    etaSeconds: { type: 'number', description: 'seconds left at the step rate so far' },
    readAt: str('when the follower read these figures from MLflow'),
  },
  ['readAt'],
);

const metricsEntry = obj(
  {
    at: str(),
    step: { type: 'integer' },
    totalSteps: { type: 'integer' },
    trainLoss: { type: 'number' },
    evalLoss: { type: 'number' },
  },
  ['at', 'step'],
);

const metricSeries = obj(
  {
    metric: str(),
    points: {
      type: 'array',
      items: obj({ step: { type: 'integer' }, value: { type: 'number' }, timestamp: str() }, [
        'step',
        'value',
        'timestamp',
      ]),
    },
  },
  ['metric', 'points'],
);

const event = obj(
  {
    id: str('stable; pass as `after` for the next page'),
    object: { const: 'fine_tune.event' },
    createdAt: str(),
    level: { type: 'string', enum: ['info', 'warn', 'error'] },
    type: str(
      'run.started, step.completed, job.status, metrics, warning, run.succeeded, ...; webhook deliveries: webhook.delivered, webhook.failed, webhook.refused, webhook.skipped, webhook.gave_up',
    ),
    message: str(),
    step: str(),
    data: { type: 'object' },
  },
  ['id', 'object', 'createdAt', 'level', 'type', 'message'],
);

const webhookEvent = { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] };

const webhookEndpoint = obj(
  {
    id: str('we_...'),
    object: { const: 'webhook_endpoint' },
    owner: str('the API key id it belongs to'),
    url: str('https URL (http only to loopback on a local stack)'),
    events: { type: 'array', items: webhookEvent },
    description: str(),
    createdAt: str(),
    secretCreatedAt: str('when the current secret was made (creation or the last rotation)'),
    previousSecretExpiresAt: str('after a rotation: until when the previous secret also signs'),
  },
  ['id', 'object', 'owner', 'url', 'events', 'createdAt', 'secretCreatedAt'],
);

const webhookEndpointWithSecret = {
  allOf: [webhookEndpoint, obj({ secret: str('whsec_<base64>: shown in this answer only, never again') }, ['secret'])],
};

const schedule = obj({
  scheduleId: str(),
  object: { const: 'fine_tune.schedule' },
  paused: { type: 'boolean' },
  note: str(),
  every: { type: 'array', items: str() },
  cron: { type: 'array', items: str() },
  overlap: { type: 'string', enum: Object.keys(OVERLAP_POLICIES) },
  catchupWindowSeconds: { type: 'number' },
  pauseOnFailure: { type: 'boolean' },
  spec: ref('RunSpec'),
  contentKey: str(),
  nextRuns: { type: 'array', items: str() },
  recent: { type: 'array', items: obj({ scheduledAt: str(), takenAt: str(), tickId: str(), runId: str() }) },
  runningTicks: { type: 'array', items: str() },
  actionsTaken: { type: 'number' },
  skippedOverlap: { type: 'number' },
});

const scheduleActionReport = obj(
  {
    scheduleId: str(),
    object: { const: 'fine_tune.schedule_action' },
    action: { type: 'string', enum: ['trigger', 'backfill'] },
    overlap: str('the overlap policy the schedule applied'),
    requested: {
      type: 'integer',
      description: 'ticks asked for: 1 for a trigger, the ticks in the range for a backfill',
    },
    started: { type: 'integer' },
    skipped: { type: 'integer', description: 'skipped by the overlap policy: a tick was still running' },
    buffered: { type: 'integer', description: 'waiting for the running tick to end' },
    startedTicks: {
      type: 'array',
      items: obj({ scheduledAt: str(), takenAt: str(), tickId: str(), runId: str() }),
    },
    settled: { type: 'boolean', description: 'false: the schedule had not acted on every tick within `wait`' },
    outcome: { type: 'string', enum: ['started', 'skipped', 'buffered', 'mixed', 'none', 'pending'] },
    message: str(),
  },
  ['scheduleId', 'action', 'requested', 'started', 'skipped', 'buffered', 'settled', 'outcome'],
);

const janitorSchedule = obj({
  scheduleId: str(),
  every: { type: 'array', items: str() },
  paused: { type: 'boolean' },
  note: str(),
  nextRuns: { type: 'array', items: str() },
  recent: { type: 'array', items: obj({ tickId: str(), takenAt: str() }) },
  lastReport: { type: 'object', description: 'what the latest finished sweep did' },
});

const createSchedule = obj(
  {
    scheduleId: str('1-64 letters, digits, ".", "_" or "-"'),
    spec: ref('RunSpec'),
    every: str(
      'an interval: "7 days", "12h", "30m" (this or cron); at least the operator\'s minimum (FTFLOW_SCHEDULE_MIN_INTERVAL, default 5 minutes)',
    ),
    cron: str('a cron expression, e.g. "0 3 * * 1"; its ticks at least the same minimum apart'),
    timezone: str('IANA time zone for cron'),
    overlap: { type: 'string', enum: Object.keys(OVERLAP_POLICIES), default: 'skip' },
    catchupWindow: str('default "10 minutes"'),
    pauseOnFailure: { type: 'boolean', default: false },
    paused: { type: 'boolean', default: false },
    note: str(),
  },
  ['scheduleId'],
);

/** /v1/webhooks: the calling key's endpoints (docs/operations.md, Webhooks). */
function webhookPaths(): Schema {
  const webhookId = idParam('webhook endpoint id (we_...)');
  return {
    '/v1/webhooks': {
      post: {
        summary: "Register a webhook endpoint for the calling key's runs; the answer carries its secret, once",
        description: `Events: ${WEBHOOK_EVENT_TYPES.join(', ')}. Without \`events\`: ${DEFAULT_WEBHOOK_EVENTS.join(', ')} (run.step.completed only when named). The URL must be https and reach a public address (checked now and before every delivery, after DNS resolution); deliveries are signed in the Standard Webhooks format (webhook-id, webhook-timestamp, webhook-signature).`,
        ...secured('webhooks:write'),
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: obj(
                {
                  url: str('https URL, at most 2048 characters, no user name or password'),
                  events: { type: 'array', items: webhookEvent, minItems: 1 },
                  description: str('at most 200 characters'),
                },
                ['url'],
              ),
            },
          },
        },
        responses: {
          201: json(ref('WebhookEndpointWithSecret'), 'registered'),
          ...errors(400, 401, 403, 409, 429),
          503: json(ref('Error'), 'the service has no FTFLOW_WEBHOOK_SECRET_KEY'),
        },
      },
      get: {
        summary: "The calling key's webhook endpoints (no secrets)",
        ...secured('webhooks:read'),
        responses: {
          200: json(
            obj({ object: { const: 'list' }, data: { type: 'array', items: ref('WebhookEndpoint') } }),
            'endpoints',
          ),
          ...errors(401, 403, 429),
        },
      },
    },
    '/v1/webhooks/{id}': {
      get: {
        summary: 'One endpoint of the calling key',
        ...secured('webhooks:read'),
        parameters: [webhookId],
        responses: { 200: json(ref('WebhookEndpoint'), 'the endpoint'), ...errors(401, 403, 404, 429) },
      },
      delete: {
        summary: 'Remove an endpoint; deliveries still being retried to it stop at their next attempt',
        ...secured('webhooks:write'),
        parameters: [webhookId],
        responses: { 204: { description: 'removed' }, ...errors(401, 403, 404, 429) },
      },
    },
    '/v1/webhooks/{id}/rotate-secret': {
      post: {
        summary:
          'A new secret, in the answer only; the previous one keeps signing beside it (both signatures sent) for overlapSeconds',
        ...secured('webhooks:write'),
        parameters: [webhookId],
        requestBody: {
          content: {
            'application/json': {
              schema: obj({
                overlapSeconds: { type: 'number', minimum: 0, maximum: MAX_ROTATION_OVERLAP_SECONDS, default: 86400 },
              }),
            },
          },
        },
        responses: {
          200: json(ref('WebhookEndpointWithSecret'), 'rotated'),
          ...errors(400, 401, 403, 404, 429),
          503: json(ref('Error'), 'the service has no FTFLOW_WEBHOOK_SECRET_KEY'),
        },
      },
    },
  };
}

export function openApiDocument(options: { azureEvents?: boolean } = {}): Schema {
  const apiKeyPaths = {
    '/v1/api-key': {
      get: {
        summary: 'The API key this request was made with: its name and scopes (never the key itself)',
        description: 'Any valid key may call it; front ends use it to offer only what the key may do.',
        security: [{ bearer: [] }],
        responses: {
          200: json(
            obj(
              {
                object: { const: 'api_key' },
                id: str("the key's name"),
                scopes: { type: 'array', items: { type: 'string', enum: [...API_SCOPES] } },
                rateLimitPerMinute: { type: 'integer', description: "the key's own rate limit, when it has one" },
              },
              ['object', 'id', 'scopes'],
            ),
            'the key',
          ),
          ...errors(401, 403, 429),
        },
      },
    },
  };
  const fineTunePaths = {
    '/v1/fine-tunes': {
      post: {
        summary: 'Start a fine-tune run, or plan one (dryRun=true)',
        description:
          "Validates the run spec and starts the run. With an Idempotency-Key the run id is ft-<key> and a repeat returns the same run (200), even after it ended; the same key with another spec is a 409. Without a key, a running run that trains the same model, data and inputs is returned instead of starting a second one (dedupe=false to opt out). With dryRun=true nothing starts: the workers run the checks of the run's first steps read-only and answer 200 with the plan (names, merged parameters, the slices' rows and bytes, warnings, the cost estimate), or 422 with the refusal a run would fail with.",
        ...secured('fine-tunes:write'),
        parameters: [
          { name: 'Idempotency-Key', in: 'header', schema: { type: 'string' } },
          { name: 'dedupe', in: 'query', schema: { type: 'string', enum: ['true', 'false'], default: 'true' } },
          { name: 'dryRun', in: 'query', schema: { type: 'string', enum: ['true', 'false'], default: 'false' } },
        ],
        requestBody: { required: false, content: { 'application/json': { schema: ref('RunSpec') } } },
        responses: {
          201: json(ref('FineTuneStarted'), 'started'),
          200: json(
            { oneOf: [ref('FineTuneStarted'), ref('FineTunePlan')] },
            'found: same key, or a running duplicate; or, with dryRun=true, the plan',
          ),
          422: json(
            ref('Refusal'),
            'dryRun=true: the run would be refused (the step, the failure type and its message)',
          ),
          ...errors(400, 401, 403, 409, 429),
        },
      },
      get: {
        summary: 'List runs, newest first',
        ...secured('fine-tunes:read'),
        parameters: [
          { name: 'status', in: 'query', schema: runStatus },
          {
            name: 'model',
            in: 'query',
            schema: { type: 'string' },
            description: 'registry/name, or a name in azureml',
          },
          { name: 'dataset', in: 'query', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
          { name: 'pageToken', in: 'query', schema: { type: 'string' } },
        ],
        responses: {
          200: json(
            obj({
              object: { const: 'list' },
              data: { type: 'array', items: ref('FineTuneSummary') },
              nextPageToken: { type: ['string', 'null'] },
            }),
            'a page of runs',
          ),
          ...errors(400, 401, 403, 429),
        },
      },
    },
    '/v1/fine-tunes/{id}': {
      get: {
        summary: 'A run: state, spec, steps, job status, metrics, warnings',
        ...secured('fine-tunes:read'),
        parameters: [idParam('run id')],
        responses: { 200: json(ref('FineTune'), 'the run'), ...errors(401, 403, 404, 429) },
      },
    },
    '/v1/fine-tunes/{id}/result': {
      get: {
        summary:
          "A succeeded run's record: registered model and version, datasets (URI, sha256, rows), job and studio link, scoring URI, served time, smoke reply, warnings and notes",
        description:
          "The same record as `ftflow result` and the client's result(). Never waits: a run still running, or one that ended without succeeding, is a 409 saying so.",
        ...secured('fine-tunes:read'),
        parameters: [idParam('run id')],
        responses: {
          200: json(ref('FineTuneResult'), "the run's record"),
          ...errors(401, 403, 404, 409, 429),
        },
      },
    },
    '/v1/fine-tunes/{id}/events': {
      get: {
        summary: 'What happened in a run, oldest first',
        ...secured('fine-tunes:read'),
        parameters: [
          idParam('run id'),
          { name: 'after', in: 'query', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
        ],
        responses: {
          200: json(
            obj({
              object: { const: 'list' },
              data: { type: 'array', items: ref('Event') },
              hasMore: { type: 'boolean' },
              lastId: { type: ['string', 'null'] },
            }),
            'a page of events',
          ),
          ...errors(400, 401, 403, 404, 429),
        },
      },
    },
    '/v1/fine-tunes/{id}/metrics': {
      get: {
        summary:
          "The loss curve: the job's MLflow metric history, series per metric, paged (read from Azure when asked)",
        ...secured('fine-tunes:read'),
        parameters: [
          idParam('run id'),
          {
            name: 'metric',
            in: 'query',
            description: 'comma-separated metric names (default loss,eval_loss,learning_rate,epoch)',
            schema: { type: 'string' },
          },
          {
            name: 'limit',
            in: 'query',
            description: 'points per metric per page',
            schema: { type: 'integer', minimum: 1, maximum: 1000, default: 500 },
          },
          { name: 'pageToken', in: 'query', schema: { type: 'string' } },
        ],
        responses: {
          200: json(
            obj({
              object: { const: 'list' },
              id: str(),
              jobName: str(),
              mlflowRunId: str('the MLflow run the series come from'),
              data: { type: 'array', items: ref('MetricSeries') },
              nextPageToken: { type: ['string', 'null'], description: 'the next points of the series that have more' },
            }),
            'series per metric, oldest step first',
          ),
          ...errors(400, 401, 403, 404, 429, 503),
        },
      },
    },
    '/v1/fine-tunes/{id}/logs': {
      get: {
        summary: "The tail of the job's user_logs/std_log.txt (read from Azure when asked)",
        ...secured('fine-tunes:read'),
        parameters: [
          idParam('run id'),
          { name: 'lines', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10000, default: 100 } },
        ],
        responses: {
          200: json(
            obj({
              id: str(),
              jobName: str(),
              file: str(),
              lines: { type: 'array', items: str() },
              truncated: { type: 'boolean' },
            }),
            'the last lines of the log',
          ),
          ...errors(400, 401, 403, 404, 429, 503),
        },
      },
    },
    '/v1/fine-tunes/{id}/cancel': {
      post: {
        summary: 'Cancel a run; answers once its cleanup is confirmed (200) or when the wait ran out (202)',
        ...secured('fine-tunes:write'),
        parameters: [
          idParam('run id'),
          { name: 'wait', in: 'query', schema: { type: 'number', minimum: 0, maximum: 300, default: 30 } },
        ],
        responses: {
          200: json(ref('CancelOutcome'), 'the run ended after its cleanup (or had already ended)'),
          202: json(ref('CancelOutcome'), 'cancellation requested; cleanup still running'),
          ...errors(401, 403, 404, 429),
        },
      },
    },
    '/v1/fine-tunes/{id}/keep-alive': {
      post: {
        summary: 'Keep the endpoint serving longer after the smoke test, or delete it now',
        description:
          'For a run keeping its endpoint alive (deployment.keepAliveMinutes > 0) after its smoke test. Exactly one of extendMinutes (added to the time left; at most 7 days ahead) and end (true: the endpoint is deleted now and the run ends). 409 when the run is not keeping its endpoint alive.',
        ...secured('fine-tunes:write'),
        parameters: [idParam('run id')],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: obj({
                extendMinutes: { type: 'number', exclusiveMinimum: 0 },
                end: { type: 'boolean', const: true },
              }),
            },
          },
        },
        responses: {
          200: json(
            obj(
              {
                id: str(),
                object: { const: 'fine_tune.keep_alive' },
                endpointName: str(),
                expiresAt: { type: ['string', 'null'], description: 'when it will be deleted; null: now' },
                message: str(),
              },
              ['id', 'object', 'endpointName', 'expiresAt', 'message'],
            ),
            'the new deletion time',
          ),
          ...errors(400, 401, 403, 404, 409, 429),
        },
      },
    },
    '/v1/fine-tunes/{id}/resume': {
      post: {
        summary: 'Start a failed, cancelled or terminated run again; each step adopts what Azure already has',
        ...secured('fine-tunes:write'),
        parameters: [idParam('run id')],
        responses: {
          202: json(
            obj({ runId: str(), previousStatus: runStatus, executionId: str(), spec: ref('RunSpec') }),
            'resumed',
          ),
          ...errors(401, 403, 404, 409, 429),
        },
      },
    },
  };
  const scheduleAction = (summary: string, extra: Schema = {}) => ({
    post: {
      summary,
      ...secured('schedules:write'),
      parameters: [idParam('schedule id')],
      ...extra,
      responses: {
        200: json(ref('Schedule'), 'the schedule'),
        ...errors(400, 401, 403, 404, 429),
      },
    },
  });
  const waitParam = {
    name: 'wait',
    in: 'query',
    schema: { type: 'number', minimum: 0, maximum: 60, default: 10 },
    description: 'seconds to wait for the schedule to act on the ticks',
  };
  const reported = {
    200: json(ref('ScheduleActionReport'), 'what the schedule did: started, skipped, buffered'),
    202: json(ref('ScheduleActionReport'), 'the schedule had not acted on every tick within `wait`'),
  };
  const tickAction = (summary: string, extra: Schema = {}) => ({
    post: {
      summary,
      ...secured('schedules:write'),
      parameters: [idParam('schedule id'), waitParam],
      ...extra,
      responses: { ...reported, ...errors(400, 401, 403, 404, 429) },
    },
  });
  const janitorAction = (summary: string, extra: Schema = {}) => ({
    post: {
      summary,
      ...secured('janitor:admin'),
      ...extra,
      responses: { 200: json(ref('JanitorSchedule'), "the janitor's schedule"), ...errors(400, 401, 403, 404, 429) },
    },
  });
  const noteBody = { requestBody: { content: { 'application/json': { schema: obj({ note: str() }) } } } };
  const secretParam = {
    name: 'secret',
    in: 'query',
    required: true,
    schema: { type: 'string' },
    description: 'the shared secret (FTFLOW_EVENT_GRID_SECRET) in the Event Grid subscription endpoint URL',
  };
  const azureEventPaths = {
    '/v1/azure/events': {
      post: {
        summary:
          "Event Grid webhook for Azure ML's job events (RunStatusChanged, RunCompleted), Event Grid or CloudEvents 1.0 schema; answers the subscription validation event with its validationResponse",
        parameters: [secretParam],
        responses: {
          200: json(
            obj({ validationResponse: str(), relayed: { type: 'integer' }, ignored: { type: 'integer' } }),
            'relayed to the workers, or the validation answer',
          ),
          ...errors(400, 401, 503),
        },
      },
      options: {
        summary: 'CloudEvents 1.0 webhook validation: echoes WebHook-Request-Origin as WebHook-Allowed-Origin',
        parameters: [secretParam],
        responses: { 200: { description: 'delivery allowed' }, ...errors(400, 401) },
      },
    },
  };
  const janitorPaths = {
    '/v1/janitor': {
      get: {
        summary: "The janitor's schedule (the billing safety net) and its last report",
        ...secured('janitor:admin'),
        responses: { 200: json(ref('JanitorSchedule'), "the janitor's schedule"), ...errors(401, 403, 404, 429) },
      },
    },
    '/v1/janitor/pause': janitorAction(
      'Pause the janitor (endpoints of ended runs are not deleted until unpaused)',
      noteBody,
    ),
    '/v1/janitor/unpause': janitorAction('Unpause the janitor', noteBody),
    '/v1/janitor/trigger': {
      post: {
        summary: 'Sweep now (skipped while a sweep runs)',
        ...secured('janitor:admin'),
        parameters: [waitParam],
        responses: { ...reported, ...errors(400, 401, 403, 404, 429) },
      },
    },
  };
  const schedulePaths = {
    '/v1/schedules': {
      post: {
        summary: 'Create a retraining schedule',
        ...secured('schedules:write'),
        requestBody: { required: true, content: { 'application/json': { schema: ref('CreateSchedule') } } },
        responses: { 201: json(ref('Schedule'), 'created'), ...errors(400, 401, 403, 409, 429) },
      },
      get: {
        summary: 'List retraining schedules',
        ...secured('schedules:read'),
        responses: {
          200: json(obj({ object: { const: 'list' }, data: { type: 'array', items: ref('Schedule') } }), 'schedules'),
          ...errors(401, 403, 429),
        },
      },
    },
    '/v1/schedules/{id}': {
      get: {
        summary: 'A schedule: spec, policies, next and recent ticks, counters',
        ...secured('schedules:read'),
        parameters: [idParam('schedule id')],
        responses: { 200: json(ref('Schedule'), 'the schedule'), ...errors(401, 403, 404, 429) },
      },
      delete: {
        summary: 'Delete a schedule (a running tick goes on)',
        ...secured('schedules:write'),
        parameters: [idParam('schedule id')],
        responses: { 204: { description: 'deleted' }, ...errors(401, 403, 404, 429) },
      },
    },
    '/v1/schedules/{id}/pause': scheduleAction('Pause', {
      requestBody: { content: { 'application/json': { schema: obj({ note: str() }) } } },
    }),
    '/v1/schedules/{id}/unpause': scheduleAction('Unpause', {
      requestBody: { content: { 'application/json': { schema: obj({ note: str() }) } } },
    }),
    '/v1/schedules/{id}/trigger': tickAction("Run a tick now, under the schedule's overlap policy; says what it did"),
    '/v1/schedules/{id}/backfill': tickAction('Run the ticks from start to end (both included); says what it did', {
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: obj(
              {
                start: str('ISO 8601'),
                end: str('ISO 8601'),
                overlap: { type: 'string', enum: Object.keys(OVERLAP_POLICIES) },
              },
              ['start', 'end'],
            ),
          },
        },
      },
    }),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'finetune-flow API',
      version: '1.0.0',
      description:
        'Fine-tune runs on Azure ML as durable Temporal workflows. Errors: {"error": {"type", "message", "fields": [{"field", "message"}]}}.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: `API key; scopes: ${API_SCOPES.join(', ')}` },
      },
      schemas: {
        RunSpec: runSpecSchema(),
        FineTuneSummary: fineTuneSummary,
        FineTune: fineTune,
        FineTuneResult: fineTuneResult,
        DatasetSplit: datasetSplit,
        FineTuneStarted: {
          allOf: [
            fineTuneSummary,
            obj({
              created: { type: 'boolean' },
              deduplicated: { type: 'boolean' },
              jobName: str(),
              endpointName: str(),
              spec: ref('RunSpec'),
              webhookSecrets: {
                type: 'array',
                description:
                  "the secrets of the run spec's notifications.webhooks, in order: only in the answer that created the run",
                items: obj({ url: str(), secret: str('whsec_...') }, ['url', 'secret']),
              },
            }),
          ],
        },
        FineTunePlan: plan,
        CostEstimate: costEstimate,
        RunCost: runCost,
        Refusal: obj(
          {
            error: obj(
              {
                type: { const: 'run_refused_error' },
                message: str('what a run of this spec would fail with, naming the field and the fix'),
                step: str('the step that refuses (absent for the allow lists and the budget)'),
                code: str(
                  'the failure type: AzureValidation, AzureNotFound, VmSizeNotAllowed, CostBudgetExceeded, ...',
                ),
                kind: str('validation, notFound, auth, quota, ...'),
              },
              ['type', 'message', 'code', 'kind'],
            ),
          },
          ['error'],
        ),
        Event: event,
        Training: training,
        MetricsEntry: metricsEntry,
        MetricSeries: metricSeries,
        CancelOutcome: obj({
          runId: str(),
          status: runStatus,
          cleanup: { type: 'string', enum: ['requested', 'confirmed', 'timed-out', 'already-ended'] },
          message: str(),
        }),
        Schedule: schedule,
        CreateSchedule: createSchedule,
        ScheduleActionReport: scheduleActionReport,
        JanitorSchedule: janitorSchedule,
        WebhookEndpoint: webhookEndpoint,
        WebhookEndpointWithSecret: webhookEndpointWithSecret,
        Error: obj(
          {
            error: obj(
              {
                type: str(),
                message: str(),
                fields: { type: 'array', items: obj({ field: str(), message: str() }, ['field', 'message']) },
              },
              ['type', 'message'],
            ),
          },
          ['error'],
        ),
      },
    },
    paths: {
      ...apiKeyPaths,
      ...fineTunePaths,
      ...schedulePaths,
      ...janitorPaths,
      ...webhookPaths(),
      ...(options.azureEvents ? azureEventPaths : {}),
    },
  };
}
