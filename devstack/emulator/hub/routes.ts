// A local stand-in for the Hugging Face Hub, serving one dataset repository (by default
// HuggingFaceH4/ultrachat_200k) with generated rows. Registered by the emulator under a prefix,
// e.g. app.register(hubRoutes, { prefix: '/hf' }) → HF_ENDPOINT=https://127.0.0.1:PORT/hf.
//
// Routes (as huggingface.co answers them):
//   GET  /api/datasets/{owner}/{name}                         repo info at main
//   GET  /api/datasets/{owner}/{name}/revision/{rev}          repo info at a revision
//   GET  /api/datasets/{owner}/{name}/tree/{rev}[/{path}]     file listing (?recursive=true)
//   GET  /api/datasets/{owner}/{name}/parquet[/{config}[/{split}]]     parquet-listing API
//   GET  /api/datasets/{owner}/{name}/parquet/{config}/{split}/{n}.parquet  → 302 to the file
//   GET|HEAD /datasets/{owner}/{name}/resolve/{rev}/{path}    file bytes, Range supported
// Revisions: "main", the commit sha (or a 7+ character prefix of it), and the dataset viewer's
// branch "refs/convert/parquet" (files default/{split}/NNNN.parquet, same bytes as the originals).
// Errors: JSON {error} with X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo)
// and X-Error-Message headers.

import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG_NAME, DEFAULT_REPO_ID, SPLITS, type SplitName } from './layout';
import {
  getHubRepo,
  gitTreeOid,
  resolveHubConfig,
  type HubDatasetConfig,
  type HubRepo,
  type RepoFile,
  type RepoRevision,
} from './repo';

export interface HubEmulatorOptions {
  /** Rows per split (defaults: train_sft 2000, test_sft 400, train_gen 2000, test_gen 400). */
  rowsPerSplit?: Partial<Record<'train_sft' | 'test_sft' | 'train_gen' | 'test_gen', number>>;
  /** Seed of the row generator (default 42). */
  seed?: number;
  /** One row in every `invalidEvery` is invalid (default 200 → 0.5%; 0 = none). */
  invalidEvery?: number;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Keep generated shards here between runs (default: in memory). */
  cacheDir?: string;
  /** Repository id served (default HuggingFaceH4/ultrachat_200k). */
  repoId?: string;
  /** Rows per parquet row group (default 250). */
  rowGroupSize?: number;
  /** Text length multiplier (default 1 ≈ 1.5 KB per row; ≈ 4.5 approaches ultrachat's ~6.7 KB). */
  contentScale?: number;
}

const CONVERT_REF = 'refs/convert/parquet';

/** The generator configuration these options describe. */
export function hubConfigFromOptions(opts: HubEmulatorOptions): HubDatasetConfig {
  return resolveHubConfig({
    ...(opts.rowsPerSplit ? { rowsPerSplit: opts.rowsPerSplit } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.invalidEvery !== undefined ? { invalidEvery: opts.invalidEvery } : {}),
    ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
    repoId: opts.repoId ?? DEFAULT_REPO_ID,
    ...(opts.rowGroupSize !== undefined ? { rowGroupSize: opts.rowGroupSize } : {}),
    ...(opts.contentScale !== undefined ? { contentScale: opts.contentScale } : {}),
  });
}

interface RepoParams {
  owner: string;
  name: string;
}

function hubError(reply: FastifyReply, status: number, code: string | undefined, message: string): FastifyReply {
  if (code) reply.header('X-Error-Code', code);
  reply
    .header('X-Error-Message', message.replace(/[^\x20-\x7e]/g, '?'))
    .header('Content-Type', 'application/json; charset=utf-8');
  return reply.code(status).send(JSON.stringify({ error: message }));
}

function findRevision(repo: HubRepo, rev: string): RepoRevision | undefined {
  const matches = (r: RepoRevision): boolean =>
    rev === r.sha || (/^[0-9a-f]{7,39}$/.test(rev) && r.sha.startsWith(rev));
  if (rev === 'main' || matches(repo.main)) return repo.main;
  if (rev === CONVERT_REF || matches(repo.convert)) return repo.convert;
  return undefined;
}

interface TreeEntry {
  type: 'file' | 'directory';
  oid: string;
  size: number;
  path: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

/** Every directory of a revision with its direct children (files and sub-directories). */
function directories(revision: RepoRevision): Map<string, { files: RepoFile[]; dirs: Set<string> }> {
  const dirs = new Map<string, { files: RepoFile[]; dirs: Set<string> }>();
  const dirOf = (path: string): { files: RepoFile[]; dirs: Set<string> } => {
    let d = dirs.get(path);
    if (!d) {
      d = { files: [], dirs: new Set() };
      dirs.set(path, d);
    }
    return d;
  };
  dirOf('');
  for (const file of revision.files.values()) {
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i - 1).join('/');
      const dir = parts.slice(0, i).join('/');
      dirOf(parent).dirs.add(dir);
      dirOf(dir);
    }
    dirOf(parts.slice(0, -1).join('/')).files.push(file);
  }
  return dirs;
}

function treeOids(dirs: Map<string, { files: RepoFile[]; dirs: Set<string> }>): Map<string, string> {
  const oids = new Map<string, string>();
  const oidOf = (dir: string): string => {
    const known = oids.get(dir);
    if (known) return known;
    const d = dirs.get(dir) as { files: RepoFile[]; dirs: Set<string> };
    const entries = [
      ...d.files.map((f) => ({ name: f.path.slice(f.path.lastIndexOf('/') + 1), mode: '100644', oid: f.oid })),
      ...[...d.dirs].map((sub) => ({ name: sub.slice(sub.lastIndexOf('/') + 1), mode: '40000', oid: oidOf(sub) })),
    ];
    const oid = gitTreeOid(entries);
    oids.set(dir, oid);
    return oid;
  };
  for (const dir of dirs.keys()) oidOf(dir);
  return oids;
}

function fileEntry(f: RepoFile): TreeEntry {
  return { type: 'file', oid: f.oid, size: f.size, path: f.path, ...(f.lfs ? { lfs: { ...f.lfs } } : {}) };
}

function listTree(revision: RepoRevision, dir: string, recursive: boolean): TreeEntry[] | undefined {
  const dirs = directories(revision);
  if (!dirs.has(dir)) return undefined;
  const oids = treeOids(dirs);
  const out: TreeEntry[] = [];
  const walk = (path: string): void => {
    const d = dirs.get(path) as { files: RepoFile[]; dirs: Set<string> };
    const children: TreeEntry[] = [
      ...[...d.dirs].map((sub): TreeEntry => ({ type: 'directory', oid: oids.get(sub) as string, size: 0, path: sub })),
      ...d.files.map(fileEntry),
    ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const child of children) {
      out.push(child);
      if (recursive && child.type === 'directory') walk(child.path);
    }
  };
  walk(dir);
  return out;
}

function authorOf(repoId: string): string {
  return repoId.slice(0, repoId.indexOf('/'));
}

function repoInfo(repo: HubRepo, revision: RepoRevision, blobs: boolean, gated: boolean): Record<string, unknown> {
  const siblings = [...revision.files.values()]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) =>
      blobs
        ? {
            rfilename: f.path,
            size: f.size,
            blobId: f.oid,
            ...(f.lfs ? { lfs: { sha256: f.lfs.oid, size: f.lfs.size, pointerSize: f.lfs.pointerSize } } : {}),
          }
        : { rfilename: f.path },
    );
  const used = [...repo.main.files.values()].reduce((s, f) => s + f.size, 0);
  return {
    _id: repo.main.sha.slice(0, 24),
    id: repo.repoId,
    author: authorOf(repo.repoId),
    sha: revision.sha,
    lastModified: repo.lastModified,
    private: false,
    gated: gated ? 'auto' : false,
    disabled: false,
    tags: [
      'task_categories:text-generation',
      'language:en',
      'license:mit',
      'format:parquet',
      'modality:text',
      'library:datasets',
    ],
    description: 'Generated stand-in with the layout and schema of HuggingFaceH4/ultrachat_200k.',
    downloads: 0,
    likes: 0,
    cardData: repo.cardData,
    siblings,
    createdAt: repo.createdAt,
    usedStorage: used,
  };
}

interface ByteRange {
  start: number;
  end: number; // inclusive
}

/** A single "bytes=" range; undefined = serve everything; 'unsatisfiable' = 416. */
function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // multiple or malformed ranges: ignore Range, as HTTP allows
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

function fileName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export async function hubRoutes(app: FastifyInstance, opts: HubEmulatorOptions): Promise<void> {
  const config = hubConfigFromOptions(opts);
  const token = opts.token;
  const prefix = app.prefix;

  const baseUrl = (req: FastifyRequest): string => `${req.protocol}://${req.host}${prefix}`;

  if (token) {
    app.addHook('onRequest', async (req, reply) => {
      const auth = req.headers.authorization;
      if (!auth) {
        return hubError(
          reply,
          401,
          'GatedRepo',
          `Access to dataset ${config.repoId} is restricted. You must be authenticated to access it.`,
        );
      }
      if (auth !== `Bearer ${token}`) {
        return hubError(reply, 401, undefined, 'Invalid credentials in Authorization header');
      }
      return undefined;
    });
  }

  /** The repo when the request names the served one; otherwise replies 404 RepoNotFound. */
  const repoFor = async (params: RepoParams, reply: FastifyReply): Promise<HubRepo | undefined> => {
    if (`${params.owner}/${params.name}` !== config.repoId) {
      hubError(reply, 404, 'RepoNotFound', 'Repository not found');
      return undefined;
    }
    return getHubRepo(config);
  };

  const revisionFor = (repo: HubRepo, rev: string, reply: FastifyReply): RepoRevision | undefined => {
    const revision = findRevision(repo, rev);
    if (!revision) hubError(reply, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    return revision;
  };

  // ---- repo info ----

  app.get<{ Params: RepoParams; Querystring: { blobs?: string } }>('/api/datasets/:owner/:name', async (req, reply) => {
    const repo = await repoFor(req.params, reply);
    if (!repo) return reply;
    return repoInfo(repo, repo.main, req.query.blobs === 'true', Boolean(token));
  });

  app.get<{ Params: RepoParams & { rev: string }; Querystring: { blobs?: string } }>(
    '/api/datasets/:owner/:name/revision/:rev',
    async (req, reply) => {
      const repo = await repoFor(req.params, reply);
      if (!repo) return reply;
      const revision = revisionFor(repo, req.params.rev, reply);
      if (!revision) return reply;
      return repoInfo(repo, revision, req.query.blobs === 'true', Boolean(token));
    },
  );

  // ---- tree ----

  const tree = async (
    req: FastifyRequest<{ Params: RepoParams & { rev: string; '*'?: string }; Querystring: { recursive?: string } }>,
    reply: FastifyReply,
  ): Promise<unknown> => {
    const repo = await repoFor(req.params, reply);
    if (!repo) return reply;
    const revision = revisionFor(repo, req.params.rev, reply);
    if (!revision) return reply;
    const dir = (req.params['*'] ?? '').replace(/^\/+|\/+$/g, '');
    const recursive = req.query.recursive === 'true' || req.query.recursive === '1';
    const entries = listTree(revision, dir, recursive);
    if (!entries) return hubError(reply, 404, 'EntryNotFound', `${dir} does not exist on "${req.params.rev}"`);
    return entries;
  };
  app.get('/api/datasets/:owner/:name/tree/:rev', tree);
  app.get('/api/datasets/:owner/:name/tree/:rev/*', tree);

  // ---- parquet listing ----

  const parquetUrls = (req: FastifyRequest, repo: HubRepo, split: SplitName): string[] =>
    repo.splitFiles[split].map(
      (_, n) => `${baseUrl(req)}/api/datasets/${repo.repoId}/parquet/${CONFIG_NAME}/${split}/${n}.parquet`,
    );

  const isSplit = (s: string): s is SplitName => (SPLITS as readonly string[]).includes(s);

  app.get<{ Params: RepoParams }>('/api/datasets/:owner/:name/parquet', async (req, reply) => {
    const repo = await repoFor(req.params, reply);
    if (!repo) return reply;
    return { [CONFIG_NAME]: Object.fromEntries(SPLITS.map((s) => [s, parquetUrls(req, repo, s)])) };
  });

  app.get<{ Params: RepoParams & { config: string } }>(
    '/api/datasets/:owner/:name/parquet/:config',
    async (req, reply) => {
      const repo = await repoFor(req.params, reply);
      if (!repo) return reply;
      if (req.params.config !== CONFIG_NAME)
        return hubError(reply, 404, undefined, `Config ${req.params.config} not found`);
      return Object.fromEntries(SPLITS.map((s) => [s, parquetUrls(req, repo, s)]));
    },
  );

  app.get<{ Params: RepoParams & { config: string; split: string } }>(
    '/api/datasets/:owner/:name/parquet/:config/:split',
    async (req, reply) => {
      const repo = await repoFor(req.params, reply);
      if (!repo) return reply;
      const { config: cfgName, split } = req.params;
      if (cfgName !== CONFIG_NAME || !isSplit(split))
        return hubError(reply, 404, undefined, `Split ${cfgName}/${split} not found`);
      return parquetUrls(req, repo, split);
    },
  );

  app.get<{ Params: RepoParams & { config: string; split: string; file: string } }>(
    '/api/datasets/:owner/:name/parquet/:config/:split/:file',
    async (req, reply) => {
      const repo = await repoFor(req.params, reply);
      if (!repo) return reply;
      const { config: cfgName, split, file } = req.params;
      const m = /^(\d+)\.parquet$/.exec(file);
      const n = m ? Number(m[1]) : -1;
      if (cfgName !== CONFIG_NAME || !isSplit(split) || n < 0 || n >= repo.splitFiles[split].length) {
        return hubError(reply, 404, 'EntryNotFound', `${cfgName}/${split}/${file} not found`);
      }
      const target = `${baseUrl(req)}/datasets/${repo.repoId}/resolve/${encodeURIComponent(CONVERT_REF)}/${CONFIG_NAME}/${split}/${String(n).padStart(4, '0')}.parquet`;
      return reply.redirect(target, 302);
    },
  );

  // ---- file download ----

  app.route<{ Params: RepoParams & { rev: string; '*': string } }>({
    method: ['GET', 'HEAD'],
    url: '/datasets/:owner/:name/resolve/:rev/*',
    handler: async (req, reply) => {
      const repo = await repoFor(req.params, reply);
      if (!repo) return reply;
      const revision = revisionFor(repo, req.params.rev, reply);
      if (!revision) return reply;
      const path = req.params['*'];
      const file = revision.files.get(path);
      if (!file) return hubError(reply, 404, 'EntryNotFound', `${path} does not exist on "${req.params.rev}"`);

      const etag = `"${file.lfs?.oid ?? file.oid}"`;
      reply
        .header('Accept-Ranges', 'bytes')
        .header('ETag', etag)
        .header('X-Repo-Commit', revision.sha)
        .header('Content-Type', file.contentType)
        .header(
          'Content-Disposition',
          `inline; filename*=UTF-8''${encodeURIComponent(fileName(path))}; filename="${fileName(path)}";`,
        );
      if (file.lfs) reply.header('X-Linked-Size', String(file.size)).header('X-Linked-ETag', etag);

      if (req.headers['if-none-match'] === etag) return reply.code(304).send();

      const range = parseRange(req.headers.range, file.size);
      if (range === 'unsatisfiable') {
        reply.header('Content-Range', `bytes */${file.size}`);
        return hubError(reply, 416, undefined, 'Requested range not satisfiable');
      }
      const start = range?.start ?? 0;
      const end = range?.end ?? file.size - 1;
      if (range) reply.code(206).header('Content-Range', `bytes ${start}-${end}/${file.size}`);
      reply.header('Content-Length', String(end - start + 1));
      if (req.method === 'HEAD' || file.size === 0) return reply.send();
      if (file.body.kind === 'memory') return reply.send(file.body.data.subarray(start, end + 1));
      return reply.send(createReadStream(file.body.file, { start, end }));
    },
  });
}
