// Issue 15, the conformance suite: the seed notebook's Azure ML calls, made by Microsoft's own SDK (the pinned
// azure-ai-ml and azureml-mlflow in .tools/conformance-venv, installed by `make setup`), run against the local
// stack's emulator, pointed at it only through the credential, the cloud's metadata endpoint and the CA bundle
// (devstack/conformance/notebook_flow.py). Every step must pass. The emulator's request counts for the SDK's
// flow are printed beside the product's for the same flow (one fine-tune through the real activities).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../../devstack/stack/paths';
import { runProcess } from '../../helpers/frontEnds';
import { emulatorUrl, startHarness } from '../../helpers/localStack';
import {
  compareBodies,
  firstWrites,
  unexplained,
  type Explanation,
  type FieldDifference,
  type LoggedWrite,
} from './requestParity';

const PYTHON = path.join(PROJECT_ROOT, '.tools', 'conformance-venv', 'bin', 'python');
const SCRIPT = path.join(PROJECT_ROOT, 'devstack', 'conformance', 'notebook_flow.py');

interface StepLine {
  step: string;
  ok: boolean;
  seconds: number;
  detail?: string;
  error?: string;
  trace?: string;
}

interface Summary {
  passed: number;
  failed: number;
  notReached: string[];
}

/** Requests by kind: reads (GET/HEAD) and writes (the rest), over the ARM, registry and MLflow routes. */
function tally(requests: readonly { method: string; path: string }[]): {
  reads: number;
  writes: number;
  total: number;
} {
  const relevant = requests.filter((r) => !r.path.startsWith('/hf/'));
  const reads = relevant.filter((r) => r.method === 'GET' || r.method === 'HEAD').length;
  return { reads, writes: relevant.length - reads, total: relevant.length };
}

const THE_NOTEBOOK_STEPS = 21;

test('the seed notebook, made with azure-ai-ml against the emulator: every step passes', async () => {
  if (!fs.existsSync(PYTHON)) {
    throw new Error(`${PYTHON} is missing: \`make setup\` creates it (devstack/conformance/requirements.txt)`);
  }
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-conformance-'));
  const before = (await requestsWithBodies()).length;
  const ran = await runProcess(PYTHON, [SCRIPT], {
    cwd: workdir,
    env: {
      ...process.env,
      FTFLOW_CONFORMANCE_CLOUD_URL: emulatorUrl(),
      FTFLOW_CONFORMANCE_WORKDIR: workdir,
      REQUESTS_CA_BUNDLE: process.env.NODE_EXTRA_CA_CERTS ?? '',
      PYTHONDONTWRITEBYTECODE: '1',
    },
    timeoutMs: 600_000,
  });
  const sdkRequests = (await requestsWithBodies()).slice(before);
  fs.rmSync(workdir, { recursive: true, force: true });

  const lines = ran.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as StepLine | { summary: Summary });
  const steps = lines.filter((l): l is StepLine => 'step' in l);
  const summary = lines.find((l): l is { summary: Summary } => 'summary' in l)?.summary;
  const failedStep = steps.find((s) => !s.ok);
  if (failedStep || !summary) {
    throw new Error(
      `the notebook flow stopped at ${failedStep?.step ?? '?'} (exit ${ran.code}): ${failedStep?.error ?? ''}\n` +
        `${failedStep?.trace ?? ''}\nnot reached: ${summary?.notReached.join(', ') ?? '?'}\nstderr tail:\n${ran.stderr.slice(-2000)}`,
    );
  }
  expect(summary).toEqual({ passed: THE_NOTEBOOK_STEPS, failed: 0, notReached: [] });
  expect(steps.map((s) => s.ok)).toEqual(Array(THE_NOTEBOOK_STEPS).fill(true));
  expect(ran.code).toBe(0);

  // The product's requests for the same flow: one fine-tune through the real activities.
  const h = await startHarness();
  let productRequests: LoggedWrite[];
  try {
    const start = (await requestsWithBodies()).length;
    const run = await h.client.start({ deployment: { keepAliveMinutes: 0 } });
    const result = await h.client.result(run.runId);
    expect(result.endpoint).toMatchObject({ deleted: true });
    productRequests = (await requestsWithBodies()).slice(start);
  } finally {
    await h.stop();
  }

  const sdk = tally(sdkRequests);
  const product = tally(productRequests);
  const table = steps.map(
    (s, i) => `${String(i + 1).padStart(2)}. ${s.step.padEnd(20)} ${s.seconds.toFixed(2)} s  ${s.detail ?? ''}`,
  );
  console.log(
    [
      `notebook flow with azure-ai-ml: ${summary.passed}/${THE_NOTEBOOK_STEPS} steps passed`,
      ...table,
      `requests seen by the emulator (ARM, registry, MLflow, RunHistory; the Hub excluded):`,
      `  azure-ai-ml (the notebook): ${sdk.total} (${sdk.reads} reads, ${sdk.writes} writes)`,
      `  finetune-flow (one run):    ${product.total} (${product.reads} reads, ${product.writes} writes)`,
    ].join('\n'),
  );
  expect(sdk.writes).toBeGreaterThan(0);
  expect(product.writes).toBeGreaterThan(0);

  // Issue 15, item 4: for every operation both make, the bodies field by field.
  const sdkWrites = firstWrites(sdkRequests);
  const productWrites = firstWrites(productRequests);
  const shared = [...sdkWrites.keys()].filter((op) => productWrites.has(op)).sort();
  const differences: FieldDifference[] = shared.flatMap((op) =>
    compareBodies(op, sdkWrites.get(op)?.body, productWrites.get(op)?.body),
  );
  const left = unexplained(differences, EXPLAINED);
  if (process.env.FTFLOW_CONFORMANCE_DUMP) {
    const dump = Object.fromEntries(
      shared.map((op) => [op, { sdk: sdkWrites.get(op)?.body, product: productWrites.get(op)?.body }]),
    );
    fs.writeFileSync(process.env.FTFLOW_CONFORMANCE_DUMP, JSON.stringify(dump, null, 2));
  }
  console.log(
    [
      `operations both make: ${shared.join(', ')}`,
      `only azure-ai-ml: ${[...sdkWrites.keys()].filter((op) => !productWrites.has(op)).join(', ') || '-'}`,
      `only finetune-flow: ${[...productWrites.keys()].filter((op) => !sdkWrites.has(op)).join(', ') || '-'}`,
      `field differences: ${differences.length}, explained ${differences.length - left.length}`,
    ].join('\n'),
  );
  expect(shared).toEqual(expect.arrayContaining(COMPARED_OPERATIONS));
  expect(
    left.map((d) => `${d.operation} ${d.field}: sdk ${JSON.stringify(d.sdk)} / product ${JSON.stringify(d.product)}`),
  ).toEqual([]);
}, 900_000);

async function requestsWithBodies(): Promise<LoggedWrite[]> {
  const res = await fetch(`${emulatorUrl()}/_emulator/requests?bodies=1`);
  if (!res.ok) throw new Error(`emulator /_emulator/requests answered ${res.status}`);
  return ((await res.json()) as { requests: LoggedWrite[] }).requests;
}

/** The writes both clients make for the notebook's cells; each must be compared. */
const COMPARED_OPERATIONS = [
  'PUT jobs/{id}',
  'PUT models/{name}/versions/{version}',
  'PUT onlineEndpoints/{name}',
  'PUT onlineEndpoints/{name}/deployments/{name}',
  'POST onlineEndpoints/{name}/listKeys',
];

const isEmpty = (v: unknown) => v === undefined || (typeof v === 'object' && v !== null && Object.keys(v).length === 0);
/** One side sends an empty object (or false, Azure's default) where the other sends nothing. */
const emptyOrDefault = (d: FieldDifference) =>
  (isEmpty(d.sdk) && isEmpty(d.product)) || (d.sdk === false && d.product === undefined);
const bothPresent = (d: FieldDifference) => d.sdk !== undefined && d.product !== undefined;

/**
 * Differences between azure-ai-ml's bodies (the notebook's cells) and finetune-flow's that are right, each
 * with its reason. docs/design.md (Requests, compared with Microsoft's) lists the same.
 */
const EXPLAINED: Explanation[] = [
  {
    operation: /.*/,
    field: /(^|\.)(tags|properties|environmentVariables|mirrorTraffic|isArchived)$/,
    applies: emptyOrDefault,
    reason: 'an empty object, or isArchived false, is what Azure assumes when the field is absent',
  },
  {
    operation: /.*/,
    field: /(^|\.)tags\.ftflow-[a-z-]+$/,
    applies: (d) => d.sdk === undefined,
    reason:
      'finetune-flow tags what it creates with its run, namespace and creator: the janitor and a resumed run find them by these tags (docs/design.md, invariant 2)',
  },
  {
    operation: /.*/,
    field: /(^|\.)description$/,
    applies: bothPresent,
    reason: "finetune-flow's descriptions name the dataset and the run; the notebook's are its own prose",
  },
  {
    operation: /^PUT computes/,
    field: /^properties\.description$/,
    reason: 'finetune-flow labels the clusters it creates',
  },
  {
    operation: /^PUT computes/,
    field: /^properties\.properties\.scaleSettings\.maxNodeCount$/,
    reason:
      'the notebook asks for max_instances=2; finetune-flow sizes the cluster from the run spec (compute.maxNodes, 1 by default: the pipeline trains on one node)',
  },
  {
    operation: /^PUT computes/,
    field: /^properties\.properties\.(remoteLoginPortPublicAccess|enableNodePublicIp|vmPriority)$/,
    reason:
      "Azure's defaults (NotSpecified, true, Dedicated): azure-ai-ml writes the first two, finetune-flow the third",
  },
  {
    operation: /^PUT jobs/,
    field: /^properties\.jobs\.chat_completion_pipeline\.inputs\.compute_[a-z_]+\.value$/,
    reason: "the cluster's name: the notebook's gpu cluster, or finetune-flow's from the run spec",
  },
  {
    operation: /^PUT jobs/,
    field: /^properties\.jobs\.chat_completion_pipeline\.inputs\.(train|test)_file_path\.uri$/,
    reason:
      "where the split was uploaded: azure-ai-ml's LocalUpload/<hash of the local file>, finetune-flow's datasets/<source>/<content key> (staged and resumed by the run)",
  },
  {
    operation: /^PUT jobs/,
    field: /^properties\.jobs\.chat_completion_pipeline\.inputs\.learning_rate\.value$/,
    applies: (d) => Number(d.sdk) === Number(d.product),
    reason: 'the same number written by Python (5e-06) and by JavaScript (0.000005); the component parses both',
  },
  {
    operation: /^PUT jobs/,
    field: /^properties\.outputs\.trained_model\.mode$/,
    applies: (d) => d.sdk === 'ReadWriteMount' && d.product === undefined,
    reason:
      "@azure/arm-machinelearning 2.1.1 serializes a pipeline's outputs with the base JobOutput mapper (its discriminator map lists mlflow_model under AssetJobOutput only), which has no `mode`; ReadWriteMount is what Azure uses when it is absent",
  },
  {
    operation: /^PUT models/,
    field: /^properties\.modelUri$/,
    applies: (d) =>
      /\/outputs\/trained_model$/.test(String(d.sdk)) && /\/outputs\/trained_model$/.test(String(d.product)),
    reason: "the same output of each client's own job (the job's name differs)",
  },
  {
    operation: /^PUT onlineEndpoints\/\{name\}\/deployments/,
    field: /^properties\.model$/,
    applies: (d) => String(d.sdk).replace(/[^/]+$/, '') === String(d.product).replace(/[^/]+$/, ''),
    reason: "the same registered model; its version is the notebook's timestamp, or derived from finetune-flow's run",
  },
];
