// Issue 15 item 5: runs against today's registry, an emulator of this file's own serving its `current`
// catalog (reference/azureml-assets/models-current: Phi-4 v8 fine-tunes; Phi-3/3.5 retired on 2025-08-30,
// most of them archived, Phi-3-small-8k-instruct not; allow lists under system_metadata). A Phi-4 run
// succeeds on the sizes the run picks from Phi-4's allow lists and says so; a Phi-3 run fails at
// resolveModel naming Phi-4; a retired VM size is refused by name before anything exists. The emulator's
// request log shows no mutating ARM request for the refused runs (docs/design.md, invariant 4).
// (Phi-3.5's registry names have a dot, which the 2024-04-01 swagger's modelName pattern does not allow: the
// emulator's contract check answers 400 before the registry route, so no Phi-3.5 case here.)
import { randomUUID } from 'node:crypto';
import { startHarness, type EmulatorRequest, type TestHarness } from '../helpers/localStack';
import {
  emulatorAdmin,
  emulatorEnv,
  startPrivateEmulator,
  type EmulatorAdmin,
  type RestartableServer,
} from '../helpers/privateStack';

const QUICK = { heartbeatTimeoutSeconds: 5 };
const MUTATING = new Set(['PUT', 'POST', 'PATCH', 'DELETE']);
const isArmMutation = (r: EmulatorRequest) =>
  MUTATING.has(r.method) && r.path.toLowerCase().startsWith('/subscriptions/');

let server: RestartableServer;
let admin: EmulatorAdmin;
let h: TestHarness;
const tag = randomUUID().slice(0, 8);

beforeAll(async () => {
  server = await startPrivateEmulator({ catalog: 'current' });
  admin = emulatorAdmin(server.address);
  h = await startHarness({}, emulatorEnv(server));
}, 90_000);

afterAll(async () => {
  await h?.stop();
  await server?.dispose();
});

interface Failed {
  error: string;
  failedStep?: string;
  ran: string[];
}

/** Starts a run that must fail; what it said, where, and which steps did anything. */
async function failedRun(spec: Record<string, unknown>, key: string): Promise<Failed> {
  const run = await h.client.start(spec, { idempotencyKey: key, options: QUICK });
  let error = '';
  try {
    await h.client.result(run.runId);
  } catch (err) {
    for (let e: unknown = err; e instanceof Error; e = e.cause) error += `${e.message} <- `;
  }
  const record = await h.client.get(run.runId);
  return {
    error,
    failedStep: record.steps.find((s) => s.status === 'failed')?.name,
    ran: record.steps.filter((s) => s.status === 'completed' || s.status === 'running').map((s) => s.name),
  };
}

test("a Phi-4 run succeeds on today's catalog, on the instance type it picks from Phi-4's allow list, and says so", async () => {
  const run = await h.client.start(
    { model: { name: 'Phi-4' }, compute: { name: `today-${tag}` }, training: { num_train_epochs: 1 } },
    { idempotencyKey: `today-phi4-${tag}`, options: QUICK },
  );
  const result = await h.client.handle(run.runId).result();
  expect(result.model).toMatchObject({ name: 'Phi-4', version: '8' });
  // The notebook's A100 cluster is in Phi-4's finetune list; its NC6s_v3 endpoint is retired and not in the inference list.
  expect(result.compute.vmSize).toBe('Standard_NC24ads_A100_v4');
  expect(result.endpoint).toMatchObject({ instanceType: 'Standard_NC24ads_A100_v4', deleted: true });
  const picked = result.warnings.find((w) => w.startsWith('deployment.instanceType is not set'));
  expect(picked).toContain("the notebook's Standard_NC6s_v3 was retired on 2025-09-30");
  expect(picked).toContain(
    "using Standard_NC24ads_A100_v4, the smallest current size of Phi-4 v8's inference allow list",
  );
  expect(result.warnings.some((w) => w.startsWith('compute.vmSize is not set'))).toBe(false);

  // The choice is an event of resolveModel, and the deployment Azure saw has that instance type.
  const events = await h.client.events(run.runId, { limit: 200 });
  expect(events.data).toContainEqual(
    expect.objectContaining({ type: 'warning', step: 'resolveModel', message: picked }),
  );
  const deployments = (await admin.resources()).deployments.filter(
    (d) => d['endpoint'] === result.endpoint.endpointName,
  );
  expect(deployments.map((d) => d['instanceType'])).toEqual(['Standard_NC24ads_A100_v4']);
  // Phi-4's own defaults went into the job (deepspeed stage 3), from the tag that stayed a tag.
  expect(result.job.parameters['deepspeed_stage']).toBe('3');
}, 120_000);

describe("Phi-3 on today's catalog fails at resolveModel, naming Phi-4, before any ARM change", () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    [
      'latest of an archived model (every version archived)',
      { model: { name: 'Phi-3-mini-4k-instruct' } },
      ['is archived (every version, the last 15)'],
    ],
    [
      'a pinned archived version, retired by date too',
      { model: { name: 'Phi-3-mini-4k-instruct', version: '15' } },
      ['version 15 in registry azureml is archived and retired (fine-tuning retired on 2025-08-30)'],
    ],
    [
      'retired by date alone (not archived)',
      { model: { name: 'Phi-3-small-8k-instruct' } },
      ['Phi-3-small-8k-instruct version 6 in registry azureml is retired (fine-tuning retired on 2025-08-30)'],
    ],
    [
      'retired by date alone, another family (Llama-2-7b-chat, retired on 2025-06-30)',
      { model: { name: 'Llama-2-7b-chat' } },
      ['Llama-2-7b-chat version 27 in registry azureml is retired (fine-tuning retired on 2025-06-30)'],
    ],
  ];
  let outcomes: Failed[];
  let mutations: EmulatorRequest[];

  beforeAll(async () => {
    const since = new Date().toISOString();
    outcomes = await Promise.all(
      cases.map(([, spec], i) => failedRun({ ...spec, compute: { name: `p3-${tag}-${i}` } }, `today-p3-${tag}-${i}`)),
    );
    mutations = (await admin.requests()).filter((r) => r.time >= since).filter(isArmMutation);
  }, 90_000);

  test.each(cases.map(([name, , fragments], i) => [name, i, fragments] as const))('%s', (_name, i, fragments) => {
    const o = outcomes[i];
    expect(o?.failedStep).toBe('resolveModel');
    expect(o?.ran).toEqual(['authenticate']);
    for (const f of fragments) expect(o?.error).toContain(f);
    expect(o?.error).toContain('Choose a current model in model.name');
    expect(o?.error).toContain(
      "Registry azureml's current fine-tunable chat-completion model is: Phi-4 (version 8, preview)",
    );
  });

  test('the emulator saw no PUT, POST, PATCH or DELETE on an ARM resource', () => {
    expect(mutations.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });
});

describe("a retired VM size is refused by name on today's catalog, before anything is created", () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    [
      'deployment.instanceType Standard_NC6s_v3 (even with allowInstanceTypeOutsideAllowList)',
      { deployment: { instanceType: 'Standard_NC6s_v3', allowInstanceTypeOutsideAllowList: true } },
      [
        "deployment.instanceType Standard_NC6s_v3 is not in the model's inference allow list and was retired on 2025-09-30 (NCv3 series; Microsoft recommends NC A100 v4)",
        'choose one of Standard_NC24ads_A100_v4, Standard_NC48ads_A100_v4',
        'deployment.allowInstanceTypeOutsideAllowList does not apply to a retired size',
      ],
    ],
    [
      'compute.vmSize Standard_NC12s_v3',
      { compute: { vmSize: 'Standard_NC12s_v3' } },
      [
        "compute.vmSize Standard_NC12s_v3 is not in the model's finetune allow list and was retired on 2025-09-30",
        'choose one of Standard_NC24ads_A100_v4, Standard_NC48ads_A100_v4',
      ],
    ],
  ];
  let outcomes: Failed[];
  let mutations: EmulatorRequest[];

  beforeAll(async () => {
    const since = new Date().toISOString();
    outcomes = await Promise.all(
      cases.map(([, spec], i) =>
        failedRun(
          {
            model: { name: 'Phi-4' },
            ...spec,
            compute: { name: `nc6-${tag}-${i}`, ...((spec.compute as object | undefined) ?? {}) },
          },
          `today-nc6-${tag}-${i}`,
        ),
      ),
    );
    mutations = (await admin.requests()).filter((r) => r.time >= since).filter(isArmMutation);
  }, 90_000);

  test.each(cases.map(([name, , fragments], i) => [name, i, fragments] as const))('%s', (_name, i, fragments) => {
    const o = outcomes[i];
    // The pure allow-list check, reported as validateCompute, before the data is staged.
    expect(o?.failedStep).toBe('validateCompute');
    expect(o?.ran).toEqual(['authenticate', 'resolveModel']);
    for (const f of fragments) expect(o?.error).toContain(f);
  });

  test('no cluster, job or endpoint was created: no mutating ARM request at all', async () => {
    expect(mutations.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    const resources = await admin.resources();
    expect(resources.computes.filter((c) => c.name.startsWith(`nc6-${tag}`))).toEqual([]);
  });
});
