// Reading a dataset repository through the Hugging Face Hub's HTTP API, the way huggingface.co
// serves it (and the local stand-in in devstack/emulator/hub serves it):
//   GET {endpoint}/api/datasets/{repo}/revision/{rev}            → { sha, cardData, siblings, … }
//   GET {endpoint}/api/datasets/{repo}/tree/{rev}/{dir}?recursive=true
//                                                                → [{ type, oid, size, path, lfs? }]
//                                                                  (paged through the Link header)
//   GET {endpoint}/datasets/{repo}/resolve/{sha}/{path}          → the bytes (Range supported)
// Errors carry the Hub's X-Error-Code header (RepoNotFound, RevisionNotFound, EntryNotFound,
// GatedRepo). The token, when given, goes in `Authorization: Bearer`; it never appears in messages.

import { z } from 'zod';
import { errorMessage } from './util';

export interface HubClientOptions {
  /** The Hub origin, e.g. https://huggingface.co (HF_ENDPOINT). A path prefix is allowed. */
  endpoint: string;
  /** HF token, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Replaces global fetch (tests). */
  fetch?: typeof fetch;
}

/** One data file of a split. */
export interface HubFile {
  /** Path inside the repository, e.g. data/train_sft-00000-of-00003-a3ecf92756993583.parquet */
  path: string;
  /** Size in bytes. */
  size: number;
  /** Download URL pinned to the commit: {endpoint}/datasets/{repo}/resolve/{sha}/{path} */
  url: string;
}

export type HubErrorCode =
  | 'RepoNotFound'
  | 'RevisionNotFound'
  | 'EntryNotFound'
  | 'SplitNotFound'
  | 'Unauthorized'
  | 'BadResponse'
  | 'Http'
  | 'Network';

/** A failed Hub call. `retryable` is true for throttling, 5xx and network failures only. */
export class HubError extends Error {
  override readonly name = 'HubError';
  constructor(
    message: string,
    readonly code: HubErrorCode,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

function checkRepoId(repoId: string): void {
  if (!REPO_ID.test(repoId)) {
    throw new HubError(`dataset id must look like "owner/name", got "${repoId}"`, 'RepoNotFound', false);
  }
}

function endpointOf(opts: HubClientOptions): string {
  return opts.endpoint.replace(/\/+$/, '');
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** The download URL of a file at a revision (a commit sha pins it). */
export function resolveUrl(opts: HubClientOptions, repoId: string, revision: string, path: string): string {
  return `${endpointOf(opts)}/datasets/${repoId}/resolve/${encodeURIComponent(revision)}/${encodePath(path)}`;
}

/** Headers for requests to the Hub (and its file URLs): the bearer token when one is set. */
export function hubHeaders(opts: Pick<HubClientOptions, 'token'>): Record<string, string> {
  return opts.token ? { Authorization: `Bearer ${opts.token}` } : {};
}

async function hubGetJson(
  opts: HubClientOptions,
  url: string,
  what: string,
): Promise<{ body: unknown; link: string | null }> {
  const doFetch = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, { headers: { Accept: 'application/json', ...hubHeaders(opts) } });
  } catch (err) {
    const cause = errorMessage(err);
    throw new HubError(`${what}: cannot reach the Hub at ${endpointOf(opts)} (${cause})`, 'Network', true);
  }
  if (!res.ok) {
    const code = res.headers.get('x-error-code');
    const detail = res.headers.get('x-error-message') ?? (await res.text().catch(() => '')).slice(0, 300);
    const suffix = detail ? ` — ${detail}` : '';
    if (res.status === 401 || res.status === 403) {
      throw new HubError(
        `${what}: the Hub refused access (HTTP ${res.status}${code ? ` ${code}` : ''})${suffix}. ` +
          (opts.token
            ? 'Check that the token (HF_TOKEN) is valid and has access to the dataset.'
            : 'Set HF_TOKEN to a token with access to the dataset.'),
        'Unauthorized',
        false,
        res.status,
      );
    }
    if (code === 'RepoNotFound' || code === 'RevisionNotFound' || code === 'EntryNotFound') {
      throw new HubError(`${what}: ${code} (HTTP ${res.status})${suffix}`, code, false, res.status);
    }
    const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    throw new HubError(`${what}: HTTP ${res.status}${code ? ` ${code}` : ''}${suffix}`, 'Http', retryable, res.status);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch (err) {
    throw new HubError(
      `${what}: the Hub answered with invalid JSON (${errorMessage(err)})`,
      'BadResponse',
      true,
      res.status,
    );
  }
  return { body, link: res.headers.get('link') };
}

const dataFilesSchema = z.union([
  z.string(),
  z.array(z.string()),
  z.array(z.object({ split: z.string(), path: z.union([z.string(), z.array(z.string())]) })),
]);

const revisionInfoSchema = z.object({
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  cardData: z
    .object({
      configs: z
        .array(
          z.object({
            config_name: z.string(),
            data_files: dataFilesSchema.optional(),
            default: z.boolean().optional(),
          }),
        )
        .optional(),
    })
    .loose()
    .optional(),
});

type RevisionInfo = z.infer<typeof revisionInfoSchema>;

const treeEntrySchema = z.object({
  type: z.string(),
  oid: z.string().optional(),
  size: z.number(),
  path: z.string(),
  lfs: z.object({ oid: z.string(), size: z.number(), pointerSize: z.number().optional() }).optional(),
});

type TreeEntry = z.infer<typeof treeEntrySchema>;

async function revisionInfo(opts: HubClientOptions, repoId: string, revision: string): Promise<RevisionInfo> {
  checkRepoId(repoId);
  const what = `dataset ${repoId} at revision "${revision}"`;
  const url = `${endpointOf(opts)}/api/datasets/${repoId}/revision/${encodeURIComponent(revision)}`;
  let body: unknown;
  try {
    ({ body } = await hubGetJson(opts, url, `reading ${what}`));
  } catch (err) {
    if (err instanceof HubError && err.code === 'RepoNotFound') {
      throw new HubError(
        `dataset ${repoId} was not found on the Hub at ${endpointOf(opts)} (is the id right, and does the token have access?)`,
        'RepoNotFound',
        false,
        err.status,
      );
    }
    if (err instanceof HubError && err.code === 'RevisionNotFound') {
      throw new HubError(
        `revision "${revision}" of dataset ${repoId} was not found on the Hub (use a branch, tag or commit sha that exists)`,
        'RevisionNotFound',
        false,
        err.status,
      );
    }
    throw err;
  }
  const parsed = revisionInfoSchema.safeParse(body);
  if (!parsed.success) {
    throw new HubError(
      `reading ${what}: unexpected answer from the Hub (${parsed.error.issues[0]?.message ?? 'bad shape'})`,
      'BadResponse',
      false,
    );
  }
  return parsed.data;
}

/** The commit sha a revision (branch, tag or sha) of the dataset points at. */
export async function resolveRevision(opts: HubClientOptions, repoId: string, revision: string): Promise<string> {
  return (await revisionInfo(opts, repoId, revision)).sha;
}

/** Follow the tree API's Link-header paging and return every entry under `dir` (recursively). */
async function listTree(
  opts: HubClientOptions,
  repoId: string,
  sha: string,
  dir: string,
  what: string,
): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  const dirPart = dir ? `/${encodePath(dir)}` : '';
  let url: string | null = `${endpointOf(opts)}/api/datasets/${repoId}/tree/${sha}${dirPart}?recursive=true`;
  while (url) {
    let page: { body: unknown; link: string | null };
    try {
      page = await hubGetJson(opts, url, what);
    } catch (err) {
      if (err instanceof HubError && err.code === 'EntryNotFound') return entries; // no such folder
      throw err;
    }
    const parsed = z.array(treeEntrySchema).safeParse(page.body);
    if (!parsed.success) {
      throw new HubError(
        `${what}: unexpected tree listing from the Hub (${parsed.error.issues[0]?.message ?? 'bad shape'})`,
        'BadResponse',
        false,
      );
    }
    entries.push(...parsed.data);
    url = nextLink(page.link, url);
  }
  return entries;
}

function nextLink(link: string | null, base: string): string | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m?.[1]) return new URL(m[1], base).toString();
  }
  return null;
}

/** Glob (as in the card's data_files) → RegExp over repository paths. `*` stays within a folder. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

/** The folder a glob starts in: everything before its first wildcard, up to the last "/". */
function globRoot(glob: string): string {
  const wild = glob.search(/[*?[]/);
  const literal = wild === -1 ? glob : glob.slice(0, wild);
  const slash = literal.lastIndexOf('/');
  return slash === -1 ? '' : literal.slice(0, slash);
}

const SHARD_NAME = /^data\/(.+?)-\d{5}-of-\d{5}(?:-[0-9a-f]+)?\.parquet$/;

/**
 * split name → data_files globs, from the dataset card's `configs` (config "default", or the one
 * marked default, or the first). Without configs, splits are inferred from the push_to_hub file
 * names data/{split}-NNNNN-of-NNNNN-*.parquet and each maps to `data/{split}-*`.
 */
async function splitPatterns(
  opts: HubClientOptions,
  repoId: string,
  info: RevisionInfo,
  what: string,
): Promise<Map<string, string[]>> {
  const configs = info.cardData?.configs ?? [];
  const config = configs.find((c) => c.config_name === 'default') ?? configs.find((c) => c.default) ?? configs[0];
  const map = new Map<string, string[]>();
  const dataFiles = config?.data_files;
  if (dataFiles !== undefined) {
    if (typeof dataFiles === 'string') map.set('train', [dataFiles]);
    else if (dataFiles.every((d): d is string => typeof d === 'string')) map.set('train', dataFiles);
    else {
      for (const d of dataFiles) {
        if (typeof d === 'string') continue;
        map.set(d.split, [...(map.get(d.split) ?? []), ...(typeof d.path === 'string' ? [d.path] : d.path)]);
      }
    }
    return map;
  }
  for (const entry of await listTree(opts, repoId, info.sha, 'data', what)) {
    const m = entry.type === 'file' ? SHARD_NAME.exec(entry.path) : null;
    if (m?.[1] && !map.has(m[1])) map.set(m[1], [`data/${m[1]}-*`]);
  }
  return map;
}

/**
 * The data files of one split at a revision, sorted by path (shard 00000 first), with download
 * URLs pinned to the revision's commit sha. The split's files are the ones matching the card's
 * data_files globs for it (for ultrachat_200k: `data/{split}-*`).
 */
export async function listSplitFiles(
  opts: HubClientOptions,
  repoId: string,
  revision: string,
  split: string,
): Promise<HubFile[]> {
  const info = await revisionInfo(opts, repoId, revision);
  const what = `listing split "${split}" of dataset ${repoId} at revision "${revision}" (${info.sha.slice(0, 7)})`;
  const patterns = await splitPatterns(opts, repoId, info, what);
  const globs = patterns.get(split);
  if (!globs) {
    const known = [...patterns.keys()];
    throw new HubError(
      `dataset ${repoId} at revision "${revision}" has no split "${split}"; ` +
        (known.length ? `its splits are: ${known.join(', ')}` : 'it declares no splits'),
      'SplitNotFound',
      false,
    );
  }
  const found = new Map<string, HubFile>();
  const listed = new Map<string, TreeEntry[]>();
  for (const glob of globs) {
    const root = globRoot(glob);
    let entries = listed.get(root);
    if (!entries) {
      entries = await listTree(opts, repoId, info.sha, root, what);
      listed.set(root, entries);
    }
    const re = globToRegExp(glob);
    for (const e of entries) {
      if (e.type !== 'file' || !re.test(e.path) || found.has(e.path)) continue;
      found.set(e.path, { path: e.path, size: e.lfs?.size ?? e.size, url: resolveUrl(opts, repoId, info.sha, e.path) });
    }
  }
  if (found.size === 0) {
    throw new HubError(`${what}: no files match ${globs.join(', ')}`, 'EntryNotFound', false);
  }
  return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
