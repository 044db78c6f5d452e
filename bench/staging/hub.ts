// The Hub stand-in of the staging bench, in its own process (its CPU is not the stager's): generates
// the dataset once into .data/bench/hub (deterministic: a pure function of the options; the cache
// folder's name is a hash of them and of the generator version, so a new generator never reuses old
// files), then serves the Hub's routes until killed. First stdout line: HubInfo as JSON.
import { existsSync, readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import fastify from 'fastify';
import { hubRoutes, prepareHubRepo, type HubEmulatorOptions } from '../../devstack/emulator/hub';

export interface HubInfo {
  endpoint: string;
  /** Seconds to generate the dataset (or to find it in the cache). */
  prepareSeconds: number;
  /** True when this run generated the files; false when they came from the cache. */
  generated: boolean;
  files: { path: string; size: number }[];
}

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2] ?? '{}') as HubEmulatorOptions;
  const cacheDir = opts.cacheDir as string;
  const before = existsSync(cacheDir) ? readdirSync(cacheDir).length : 0;
  const t0 = performance.now();
  const repo = await prepareHubRepo(opts);
  const prepareSeconds = (performance.now() - t0) / 1000;
  const generated = readdirSync(cacheDir).length > before;
  const app = fastify({});
  await app.register(hubRoutes, { prefix: '/hf', ...opts });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const info: HubInfo = {
    endpoint: `http://127.0.0.1:${port}/hf`,
    prepareSeconds,
    generated,
    files: repo.files.filter((f) => f.path.endsWith('.parquet')),
  };
  process.stdout.write(JSON.stringify(info) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`[hub] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
