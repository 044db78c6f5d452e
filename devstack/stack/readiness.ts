// Readiness probes. Each one retries until its deadline and gives up early when the child exits.
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { Connection } from '@temporalio/client';
import { sleep, type SupervisedChild } from './child';
import { ensureSearchAttributes } from './searchAttributes';

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Retries `attempt` until it returns true or the deadline passes; fails early when `child` exits. */
export async function retryUntil(
  child: SupervisedChild | undefined,
  deadline: number,
  what: string,
  attempt: () => Promise<boolean>,
  intervalMs = 150,
): Promise<void> {
  let last = 'no attempt finished';
  for (;;) {
    if (child && !child.isRunning()) throw child.diedError(`before ${what}`);
    try {
      if (await attempt()) return;
      last = 'not ready yet';
    } catch (err) {
      last = errorText(err);
    }
    if (Date.now() >= deadline) {
      const tail = child ? child.tailText() : '';
      throw new Error(`${child?.name ?? 'component'}: ${what} did not happen in time (last error: ${last}).${tail}`);
    }
    await sleep(intervalMs);
  }
}

/** Resolves true once a TCP connection to host:port succeeds. */
export function tcpAccepts(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Waits for the port to accept TCP connections (cheap, every 50 ms: gRPC's own reconnect back-off
 * would add a second), then connects with @temporalio/client, describes the namespace and checks
 * the search attributes.
 */
export async function waitForTemporal(
  address: string,
  namespace: string,
  deadline: number,
  child?: SupervisedChild,
): Promise<void> {
  const [host, portText] = [address.slice(0, address.lastIndexOf(':')), address.slice(address.lastIndexOf(':') + 1)];
  await retryUntil(child, deadline, `${address} accepted connections`, () => tcpAccepts(host, Number(portText)), 50);
  await retryUntil(child, deadline, `Temporal answered on ${address}`, async () => {
    const connection = await Connection.connect({ address, connectTimeout: 2000 });
    try {
      await connection.withDeadline(Date.now() + 5000, async () => {
        await connection.workflowService.describeNamespace({ namespace });
        await ensureSearchAttributes(connection, namespace);
      });
      return true;
    } finally {
      await connection.close();
    }
  });
}

/** Any HTTP answer counts: Azurite returns 400/403 to an unauthenticated request once it listens. */
export function httpStatus(url: string, ca?: Buffer, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request(u, { method: 'GET', timeout: timeoutMs, ...(ca ? { ca } : {}), agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function waitForHttp(
  url: string,
  deadline: number,
  child: SupervisedChild | undefined,
  accept: (status: number) => boolean,
  ca?: Buffer,
): Promise<void> {
  await retryUntil(child, deadline, `GET ${url} answered`, async () => accept(await httpStatus(url, ca)), 100);
}
