import {
  ASSET_NAME_PATTERN,
  deriveRunNames,
  ENDPOINT_NAME_PATTERN,
  fineTunedModelName,
  stableHash,
} from '../../src/runSpec/names';

const JOB_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;
const ENDPOINT_NAME = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/** Seeded PRNG (mulberry32) so the fuzz is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABETS = [
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  '-_./:@#!?*()[]{} \t\n\'"\\|~`$%^&+=,;<>',
  'éèüßøåçñ日本語中文한국어Ωπ√∞',
  '😀🚀🔥👩‍💻', // surrogate pairs and a ZWJ sequence
  '\u0000\u0301\u200b\ufeff',
];

function fuzzIds(count: number): string[] {
  const rand = prng(20240521);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const length = i % 25 === 0 ? 300 + Math.floor(rand() * 2000) : 1 + Math.floor(rand() * 40);
    let id = '';
    for (let j = 0; j < length; j++) {
      const chars = Array.from(ALPHABETS[Math.floor(rand() * ALPHABETS.length)]);
      id += chars[Math.floor(rand() * chars.length)];
    }
    ids.push(id);
  }
  return ids;
}

const SPECIAL_IDS = [
  'a',
  '-',
  '_',
  '---',
  '!!!',
  '日本語',
  '😀',
  'run 1',
  'run-1',
  'run_1',
  'x'.repeat(5000),
  '-leading',
  'trailing-',
  'ftflow-abc',
];
const IDS = [...new Set([...fuzzIds(500), ...SPECIAL_IDS])];

describe('deriveRunNames', () => {
  test('is deterministic', () => {
    expect(deriveRunNames('fine-tune-2024-05-21')).toEqual(deriveRunNames('fine-tune-2024-05-21'));
  });

  test('pins the names of a fixed run id', () => {
    expect(deriveRunNames('ftflow-run-1')).toEqual({
      runId: 'ftflow-run-1',
      jobName: 'ftflow-ftflow-run-1-64b9ced1',
      endpointName: 'ftflow-64b9ced10591b0a9',
    });
  });

  test('rejects an empty run id', () => {
    expect(() => deriveRunNames('')).toThrow('runId must not be empty');
  });

  test(`job names are valid asset names for ${IDS.length} fuzzed run ids (unicode, punctuation, very long)`, () => {
    for (const id of IDS) {
      const { jobName } = deriveRunNames(id);
      if (!JOB_NAME.test(jobName))
        throw new Error(`bad job name ${JSON.stringify(jobName)} for run id ${JSON.stringify(id)}`);
    }
  });

  test(`endpoint names are 3-32 chars, letter first, alnum last for ${IDS.length} fuzzed run ids`, () => {
    for (const id of IDS) {
      const { endpointName } = deriveRunNames(id);
      if (endpointName.length < 3 || endpointName.length > 32 || !ENDPOINT_NAME.test(endpointName)) {
        throw new Error(`bad endpoint name ${JSON.stringify(endpointName)} for run id ${JSON.stringify(id)}`);
      }
    }
  });

  test('different run ids give different job names and endpoint names', () => {
    const names = IDS.map(deriveRunNames);
    expect(new Set(names.map((n) => n.jobName)).size).toBe(IDS.length);
    expect(new Set(names.map((n) => n.endpointName)).size).toBe(IDS.length);
  });

  test('run ids that slug alike still differ ("run 1", "run-1", "run_1"; "é", "è")', () => {
    const jobs = ['run 1', 'run-1', 'run/1', 'é', 'è'].map((id) => deriveRunNames(id).jobName);
    expect(new Set(jobs).size).toBe(5);
  });

  test('the exported patterns are the ones Azure ML documents', () => {
    expect(ASSET_NAME_PATTERN.source).toBe(JOB_NAME.source);
    expect(ENDPOINT_NAME_PATTERN.source).toBe(ENDPOINT_NAME.source);
  });
});

describe('fineTunedModelName', () => {
  test('gives "Phi-3-mini-4k-instruct-ultrachat-200k" for the seed', () => {
    expect(fineTunedModelName('Phi-3-mini-4k-instruct', 'HuggingFaceH4/ultrachat_200k')).toBe(
      'Phi-3-mini-4k-instruct-ultrachat-200k',
    );
  });

  test('other datasets get a slug of their name and the result is a valid asset name', () => {
    const name = fineTunedModelName('Phi-3-mini-4k-instruct', 'someone/My.Data set');
    expect(name).toBe('Phi-3-mini-4k-instruct-My-Data-set');
    expect(name).toMatch(JOB_NAME);
  });
});

describe('stableHash', () => {
  test('is 64-bit FNV-1a: known test vectors', () => {
    expect(stableHash('')).toBe('cbf29ce484222325');
    expect(stableHash('a')).toBe('af63dc4c8601ec8c');
    expect(stableHash('foobar')).toBe('85944171f73967e8');
  });

  test('gives a pinned value for a fixed string', () => {
    expect(stableHash('ftflow-run-1')).toBe('64b9ced10591b0a9');
  });
});
