// The stack started by the jest global set-up (test/setup/globalSetup.ts) is reachable as documented.
import * as fs from 'node:fs';
import { Connection } from '@temporalio/client';
import { readStackRecord } from '../../../devstack/stack';
import { commandLineOf } from '../../../devstack/stack/child';
import { httpStatus } from '../../../devstack/stack/readiness';

const enabled = (process.env.FTFLOW_TEST_STACK ?? '').toLowerCase() !== 'off';
const maybe = enabled ? describe : describe.skip;

maybe('global test stack', () => {
  test('process.env carries the connection details and .data/test/devstack/stack.json records them', () => {
    expect(process.env.TEMPORAL_ADDRESS).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(process.env.FTFLOW_BLOB_ENDPOINT).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
    expect(process.env.NODE_EXTRA_CA_CERTS).toBeTruthy();
    const file = process.env.FTFLOW_TEST_STACK_FILE!;
    const rec = readStackRecord(file)!;
    expect(rec.urls.temporalAddress).toBe(process.env.TEMPORAL_ADDRESS);
    expect(fs.readFileSync(file, 'utf8')).not.toContain(process.env.AZURE_CLIENT_SECRET ?? 'no-secret-set');
  });

  test('Temporal answers', async () => {
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    try {
      const ns = await connection.workflowService.describeNamespace({ namespace: 'default' });
      expect(ns.namespaceInfo?.name).toBe('default');
    } finally {
      await connection.close();
    }
  });

  test('the emulator answers its health route over HTTPS trusted through NODE_EXTRA_CA_CERTS', async () => {
    const url = process.env.FTFLOW_TEST_EMULATOR_URL;
    if (!url) return; // emulator not part of this checkout yet (globalSetup said so)
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(process.env.AZURE_CLIENT_SECRET).toBeTruthy();
    expect(await httpStatus(`${url}/_emulator/health`)).toBe(200);
  });

  test('the emulator accepts the generated client secret, which shows neither in its command line nor in its log', async () => {
    const url = process.env.FTFLOW_TEST_EMULATOR_URL;
    if (!url) return;
    const secret = process.env.AZURE_CLIENT_SECRET!;
    const token = async (clientSecret: string): Promise<number> => {
      const res = await fetch(`${url}/${process.env.AZURE_TENANT_ID!}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: process.env.AZURE_CLIENT_ID!,
          client_secret: clientSecret,
          scope: 'https://management.azure.com/.default',
        }).toString(),
      });
      await res.arrayBuffer();
      return res.status;
    };
    expect(await token(secret)).toBe(200);
    expect(await token(secret + 'x')).not.toBe(200);
    const rec = readStackRecord(process.env.FTFLOW_TEST_STACK_FILE!)!;
    const emulator = rec.processes.find((p) => p.name === 'emulator')!;
    expect(commandLineOf(emulator.pid)).not.toContain(secret);
    expect(fs.readFileSync(emulator.logFile, 'utf8')).not.toContain(secret);
  });
});
