// The dataset part of the run spec: where the rows come from, how much of each split to take, and
// how they are sampled. Two shapes:
//
//   Hugging Face (the default; {} is the notebook's 5% of ultrachat_200k):
//     { source: "HuggingFaceH4/ultrachat_200k", revision: "main",
//       trainSplit: "train_sft", testSplit: "test_sft", scoringSplit: "test_gen", percent: 5 }
//   Your own files, one per split (scoring defaults to the test file), all of each by default:
//     { source: "files", files: { train: "/data/train.jsonl", test: "https://host/test.parquet",
//       scoring: "azureml://datastores/workspaceblobstore/paths/chat/sample.jsonl" }, percent: 100 }
//
// A file is an absolute path on the worker, a file:// URL, an http(s) URL, or a file already in the
// workspace's default datastore (azureml://datastores/<name>/paths/<path>, or that blob's https
// URL). JSONL or parquet, told by the name. A datastore JSONL file wanted whole (percent 100,
// first rows) is used as it is; everything else is read, validated and staged as JSONL.
//
// What the schema refuses here, for every front end: datastore paths and URL paths with "." or ".."
// segments (also %2e-encoded), backslashes or malformed %-escapes, and datastore or blob paths with
// empty segments, since those would not name the file given (a ".." leaves the datastore's
// container). What only the worker can judge, it judges in stageDataset (src/dataset/sourceSettings.ts):
// local paths only under its data root (FTFLOW_DATA_ROOT), URLs https only and to public addresses
// unless the operator allows them.
//
// Sampling (both shapes): { method: "first" } (default: the first percent% of rows, "closest"
// rounding) or { method: "hash", seed } (rows whose hash(seed, prompt_id) is below percent%; see
// src/dataset/sampling.ts). Left out, it is "first" and does not appear in the parsed spec.
import { z } from 'zod';
import { SEED_DATASET } from './defaults';

const HUB_ID = /^[\w.-]+\/[\w.-]+$/;
const FILES = 'files';

/** The splits of the seed's dataset (the Hub shape's defaults). */
const HUB_DEFAULTS = {
  revision: 'main',
  trainSplit: 'train_sft',
  testSplit: 'test_sft',
  scoringSplit: 'test_gen',
  percent: 5,
} as const;
const HUB_ONLY = ['revision', 'trainSplit', 'testSplit', 'scoringSplit'] as const;

export type FileRefKind = 'local' | 'http' | 'datastore';

export interface ParsedFileRef {
  kind: FileRefKind;
  /** local: the absolute path; http: the URL; datastore: the datastore's name. */
  location: string;
  /** datastore only: the path inside it. */
  path?: string;
  format: 'jsonl' | 'parquet';
}

const DATASTORE_SHORT = /^azureml:\/\/datastores\/([^/]+)\/paths\/(.+)$/i;
const DATASTORE_LONG =
  /^azureml:\/\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/(?:providers\/Microsoft\.MachineLearningServices\/)?workspaces\/[^/]+\/datastores\/([^/]+)\/paths\/(.+)$/i;

function formatOf(pathname: string): 'jsonl' | 'parquet' | undefined {
  const lower = pathname.toLowerCase();
  if (lower.endsWith('.parquet')) return 'parquet';
  if (lower.endsWith('.jsonl') || lower.endsWith('.json') || lower.endsWith('.ndjson')) return 'jsonl';
  return undefined;
}

/**
 * Why a path inside a datastore cannot name exactly one blob of the datastore's container, or
 * undefined when it can. `name` is the decoded path. A "." or ".." segment would be resolved away by
 * the blob URL (azureml://datastores/x/paths/../other-container/f.jsonl reads another container of
 * the storage account with the worker's identity); an empty segment or a backslash is never a file
 * someone meant.
 */
export function blobNameProblem(name: string): string | undefined {
  if (name.includes('\\')) return 'it contains a backslash ("\\" or %5C): use "/" between folders';
  for (const segment of name.split('/')) {
    if (segment === '.' || segment === '..')
      return `it has a "${segment}" segment (also when written %2e): give the file's path from the datastore's root, without "." or ".."`;
    if (segment === '') return 'it has an empty segment ("//", or a "/" at the end): give the path to a file';
  }
  return undefined;
}

const MALFORMED_ESCAPE =
  'it has a malformed %-escape ("%" must be followed by two hex digits; write a literal "%" as %25)';

/** The decoded datastore path of an azureml:// URI (leading "/" dropped), or why it cannot be used. */
function datastorePathOf(raw: string): { path: string } | { problem: string } {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return { problem: MALFORMED_ESCAPE };
  }
  const path = decoded.replace(/^\/+/, '');
  const problem = blobNameProblem(path);
  return problem ? { problem } : { path };
}

/** Azure Blob Storage URLs (public and sovereign clouds): their path is <container>/<blob name>. */
const BLOB_HOST =
  /\.blob\.(core\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net|cloudapi\.de)|storage\.azure\.net)$/i;

/**
 * Why the path of an http(s) URL is refused, or undefined. A URL parser resolves "." and ".."
 * segments (also %2e-encoded ones) and reads a backslash as "/", so the URL that is fetched would not be
 * the one that was given; a blob URL must also name one blob (no empty segments).
 */
function urlPathProblem(value: string, url: URL): string | undefined {
  if (value.includes('\\')) return 'the URL contains a backslash: use "/"';
  const raw = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(value)?.[1] ?? '';
  const segments = raw.split('/').slice(1);
  for (const segment of segments) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return `the URL path ${MALFORMED_ESCAPE}`;
    }
    if (decoded === '.' || decoded === '..')
      return `the URL path has a "${decoded}" segment (also when written %2e): give the file's URL without "." or ".."`;
  }
  if (BLOB_HOST.test(url.hostname)) {
    const blob = segments.slice(1).join('/');
    let name: string;
    try {
      name = decodeURIComponent(blob);
    } catch {
      return `the URL path ${MALFORMED_ESCAPE}`;
    }
    const problem = blobNameProblem(name);
    if (problem) return `the blob path in the URL is not usable: ${problem}`;
  }
  return undefined;
}

/**
 * What a dataset.files entry points at, or the reason it cannot be used. Shared by the schema (to
 * reject bad entries when the run starts) and the staging activity (to open them).
 */
export function parseFileRef(value: string): ParsedFileRef | { error: string } {
  const noFormat = 'name the file .jsonl (JSON Lines) or .parquet, so the format is known';
  const datastore = DATASTORE_SHORT.exec(value) ?? DATASTORE_LONG.exec(value);
  if (datastore) {
    const [, rawName, rawPath] = datastore as unknown as [string, string, string];
    let name: string;
    try {
      name = decodeURIComponent(rawName);
    } catch {
      return { error: `the datastore name in "${value}": ${MALFORMED_ESCAPE}` };
    }
    const parsed = datastorePathOf(rawPath);
    if ('problem' in parsed) {
      return {
        error: `the datastore path in "${value}" cannot be used: ${parsed.problem} (azureml://datastores/<datastore>/paths/<folder>/<file.jsonl>)`,
      };
    }
    const format = formatOf(parsed.path);
    if (!format) return { error: `${noFormat} (got "${value}")` };
    return { kind: 'datastore', location: name, path: parsed.path, format };
  }
  if (/^azureml:/i.test(value)) {
    return {
      error: `"${value}" is not a datastore file: use azureml://datastores/<datastore>/paths/<path/to/file.jsonl>`,
    };
  }
  if (/^https?:/i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return { error: `"${value}" is not a valid URL` };
    }
    if (url.username || url.password) {
      return {
        error:
          'the URL carries a user name or password, which would be stored in the run history: serve the file without them or copy it to the workspace datastore',
      };
    }
    if (url.searchParams.has('sig')) {
      return {
        error:
          'the URL carries a SAS signature (sig=...), which would be stored in the run history: copy the file to the workspace datastore and give its azureml://datastores/<name>/paths/<path> URI instead',
      };
    }
    const pathProblem = urlPathProblem(value, url);
    if (pathProblem) return { error: `${pathProblem} (got "${value.replace(/[?#].*$/, '')}")` };
    const format = formatOf(url.pathname);
    if (!format) return { error: `${noFormat} (got "${url.origin}${url.pathname}")` };
    return { kind: 'http', location: value, format };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !/^file:/i.test(value)) {
    return {
      error: `"${value.slice(0, value.indexOf(':'))}:" URLs are not supported: give an absolute path, an http(s) URL or an azureml://datastores/... URI`,
    };
  }
  let path = value;
  if (/^file:/i.test(value)) {
    try {
      path = decodeURIComponent(new URL(value).pathname);
    } catch {
      return { error: `"${value}" is not a valid file URL` };
    }
  }
  if (!path.startsWith('/')) {
    return {
      error: `"${value}" is a relative path; the worker reads the file, so give an absolute path (or an http(s) or azureml:// URL)`,
    };
  }
  const format = formatOf(path);
  if (!format) return { error: `${noFormat} (got "${path}")` };
  return { kind: 'local', location: path, format };
}

/**
 * The dataset.files entries that are local paths or file:// URLs, with their fields. A worker reads
 * those only under its data root (FTFLOW_DATA_ROOT); a front end that takes specs from remote
 * callers can use this to refuse them before a run starts.
 */
export function localFileEntries(dataset: DatasetSpec): { field: string; value: string }[] {
  if (!isFilesDataset(dataset)) return [];
  const out: { field: string; value: string }[] = [];
  for (const role of ['train', 'test', 'scoring'] as const) {
    const value = dataset.files[role];
    const ref = parseFileRef(value);
    if (!('error' in ref) && ref.kind === 'local') out.push({ field: `dataset.files.${role}`, value });
  }
  return out;
}

const fileRef = (field: string) =>
  z
    .string({
      error: `${field} must be a string: an absolute path, an http(s) URL or an azureml://datastores/<name>/paths/<path> URI`,
    })
    .min(1, `${field} must not be empty`)
    .superRefine((value, ctx) => {
      const parsed = parseFileRef(value);
      if ('error' in parsed) ctx.addIssue({ code: 'custom', message: `${field}: ${parsed.error}` });
    });

const splitName = (field: string) =>
  z
    .string({ error: `${field} must be a split name such as "train_sft"` })
    .regex(/^[\w.-]+$/, `${field} must be a split name: letters, digits, "_", "." or "-"`);

const FilesSpec = z.strictObject(
  {
    train: fileRef('dataset.files.train'),
    test: fileRef('dataset.files.test'),
    /** Where the smoke test takes its sample conversation; default: the test file. */
    scoring: fileRef('dataset.files.scoring').optional(),
  },
  {
    error: (issue) =>
      issue.code === 'invalid_type'
        ? 'dataset.files must be an object { train, test, scoring? } of file paths or URLs'
        : undefined,
  },
);

export const SamplingSpec = z.discriminatedUnion(
  'method',
  [
    z.strictObject({ method: z.literal('first') }),
    z.strictObject({
      method: z.literal('hash'),
      seed: z
        .number({ error: 'dataset.sampling.seed must be a whole number' })
        .int('dataset.sampling.seed must be a whole number')
        .min(0, 'dataset.sampling.seed must be 0 or more')
        .max(2 ** 32 - 1, 'dataset.sampling.seed must be below 2^32')
        .default(0),
    }),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union' || issue.code === 'invalid_type'
        ? 'dataset.sampling must be { method: "first" } (the first percent% of rows) or { method: "hash", seed } (a seeded hash sample by prompt_id)'
        : undefined,
  },
);

const percentSchema = z
  .number({ error: 'dataset.percent must be a number between 0 (exclusive) and 100' })
  .gt(0, 'dataset.percent must be greater than 0')
  .max(100, 'dataset.percent must be at most 100');

const DatasetInput = z
  .strictObject({
    /** A Hugging Face dataset id ("owner/name"), or "files" with dataset.files. */
    source: z
      .string({
        error: 'dataset.source must be a Hugging Face dataset id like "HuggingFaceH4/ultrachat_200k", or "files"',
      })
      .refine(
        (s) => s === FILES || HUB_ID.test(s),
        'dataset.source must be a Hugging Face dataset id like "HuggingFaceH4/ultrachat_200k", or "files" (with dataset.files)',
      )
      .optional(),
    revision: z
      .string({ error: 'dataset.revision must be a branch, tag or commit sha' })
      .min(1, 'dataset.revision must not be empty')
      .optional(),
    trainSplit: splitName('dataset.trainSplit').optional(),
    testSplit: splitName('dataset.testSplit').optional(),
    /** The split the smoke test takes its sample conversation from. */
    scoringSplit: splitName('dataset.scoringSplit').optional(),
    files: FilesSpec.optional(),
    /** Default 5 for a Hugging Face dataset (the notebook), 100 for files. */
    percent: percentSchema.optional(),
    sampling: SamplingSpec.optional(),
    /** Fail the run before submitting when more than this fraction of rows is invalid. */
    maxInvalidFraction: z
      .number({ error: 'dataset.maxInvalidFraction must be a number between 0 and 1 (0.01 = 1%)' })
      .min(0, 'dataset.maxInvalidFraction must be between 0 and 1 (0.01 = 1%)')
      .max(1, 'dataset.maxInvalidFraction must be between 0 and 1 (0.01 = 1%)')
      .default(0.01),
  })
  .superRefine((d, ctx) => {
    const filesMode = d.source === FILES || (d.source === undefined && d.files !== undefined);
    if (filesMode) {
      if (!d.files) {
        ctx.addIssue({
          code: 'custom',
          path: ['files'],
          message:
            'dataset.files is required when dataset.source is "files": give { train, test } (and optionally scoring) as absolute paths, http(s) URLs or azureml://datastores/<name>/paths/<path> URIs',
        });
      }
      for (const key of HUB_ONLY) {
        if (d[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `dataset.${key} applies to Hugging Face datasets only: remove it (the data comes from dataset.files)`,
          });
        }
      }
    } else if (d.files !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['files'],
        message: `dataset.files is for your own files: set dataset.source to "files", or remove dataset.files to use the Hugging Face dataset ${d.source}`,
      });
    }
  });

export type Sampling = z.output<typeof SamplingSpec>;

interface CommonDataset {
  percent: number;
  /** Absent means { method: "first" }. */
  sampling?: Sampling;
  maxInvalidFraction: number;
}

export interface HubDatasetSpec extends CommonDataset {
  /** Hugging Face dataset id, e.g. "HuggingFaceH4/ultrachat_200k". */
  source: string;
  revision: string;
  trainSplit: string;
  testSplit: string;
  scoringSplit: string;
  files?: undefined;
}

export interface FilesDatasetSpec extends CommonDataset {
  source: 'files';
  files: { train: string; test: string; scoring: string };
}

export const DatasetSpec = DatasetInput.transform((d): HubDatasetSpec | FilesDatasetSpec => {
  const common = {
    ...(d.sampling ? { sampling: d.sampling } : {}),
    maxInvalidFraction: d.maxInvalidFraction,
  };
  if (d.files) {
    const { train, test, scoring } = d.files;
    return { source: FILES, files: { train, test, scoring: scoring ?? test }, percent: d.percent ?? 100, ...common };
  }
  return {
    source: d.source ?? SEED_DATASET,
    revision: d.revision ?? HUB_DEFAULTS.revision,
    trainSplit: d.trainSplit ?? HUB_DEFAULTS.trainSplit,
    testSplit: d.testSplit ?? HUB_DEFAULTS.testSplit,
    scoringSplit: d.scoringSplit ?? HUB_DEFAULTS.scoringSplit,
    percent: d.percent ?? HUB_DEFAULTS.percent,
    ...common,
  };
});

export type DatasetSpec = z.output<typeof DatasetSpec>;

/** Narrows a parsed dataset spec to the files shape. */
export function isFilesDataset(d: DatasetSpec): d is FilesDatasetSpec {
  return d.files !== undefined;
}
