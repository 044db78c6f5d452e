// Shared by the authorization and schedule-report suites: a typed client on a task queue of its own with
// no worker polling it (a run or a tick started there stays running, at no cost, until it is
// terminated), the HTTP API in this process with keys of chosen scopes, and `ftflow` as a process.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { buildApi } from '../../src/api/server';
import { ApiKeyStore, hashKey, type StoredApiKey } from '../../src/api/keys';
import { FineTuneClient } from '../../src/client';
import { temporalAddress } from '../helpers/localStack';
import { ftflow, type Ran } from '../helpers/frontEnds';

export interface FrontDoors {
  taskQueue: string;
  temporal: Client;
  client: FineTuneClient;
  /** An HTTP call with the named key (a key of KEY_SCOPES), or none. */
  call(
    method: string,
    path: string,
    opts?: { key?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<ApiAnswer>;
  /** `ftflow ...` as a process, on this task queue. */
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<Ran>;
  stop(): Promise<void>;
}

export interface ApiAnswer {
  status: number;
  body: any;
}

export type KeyScopes = Record<string, StoredApiKey['scopes']>;

export async function openFrontDoors(
  keys: KeyScopes,
  env: NodeJS.ProcessEnv = process.env,
  api: { allowLocalDatasetPaths?: boolean } = {},
): Promise<FrontDoors> {
  const taskQueue = `noworker-${randomUUID()}`;
  const connection = await Connection.connect({ address: temporalAddress() });
  const temporal = new Client({ connection, namespace: 'default' });
  const client = await FineTuneClient.connect({ client: temporal, taskQueue }, env);
  const store = ApiKeyStore.fromKeys(
    Object.entries(keys).map(([id, scopes]) => ({ id, hash: hashKey(`ftflow_${id}`), scopes, revoked: false })),
  );
  const app: FastifyInstance = await buildApi({ client, keys: store, ...api });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    taskQueue,
    temporal,
    client,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.key !== undefined) headers.authorization = `Bearer ftflow_${opts.key}`;
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    cli: (args, extraEnv) => ftflow(args, taskQueue, { env: extraEnv }),
    async stop() {
      await app.close();
      await connection.close();
    },
  };
}

/** Terminates workflows this suite started (they have no worker); gone or closed ones are fine. */
export async function terminateAll(temporal: Client, ids: Iterable<string>): Promise<void> {
  for (const id of ids) {
    await temporal.workflow
      .getHandle(id)
      .terminate('test cleanup')
      .catch((err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return;
        if (/already completed|not running/i.test(String((err as Error).message))) return;
        throw err;
      });
  }
}

/** Settles within ms or says it is still waiting (so a hung call fails the test instead of timing it out). */
export function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
