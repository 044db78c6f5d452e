// Start, readiness and stop of real child processes: the Temporal CLI dev server and Azurite.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { readStackRecord, startStack, type RunningStack } from '../../../devstack/stack';
import { isAlive } from '../../../devstack/stack/child';
import { httpStatus } from '../../../devstack/stack/readiness';
import { FINETUNE_SEARCH_ATTRIBUTE_KEYS } from '../../../src/config/searchAttributes';
import { goneForGood, scratchDir } from './helpers';

describe('stack lifecycle (Temporal dev server + Azurite)', () => {
  let stack: RunningStack | undefined;
  let dataDir: string;
  const lines: string[] = [];

  beforeAll(async () => {
    dataDir = scratchDir('lifecycle');
    stack = await startStack({
      dataDir,
      components: ['temporal', 'azurite'],
      ports: { temporal: 0, temporalUi: 0, azurite: 0 },
      temporal: { headless: false }, // with the UI: a persistent SQLite file and a UI port
      azurite: { inMemory: false },
      handleSignals: false,
      log: (l) => lines.push(l),
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  test('Temporal answers with the namespace and the FineTune search attributes registered', async () => {
    const s = stack!;
    expect(s.urls.temporalAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const connection = await Connection.connect({ address: s.urls.temporalAddress! });
    try {
      const ns = await connection.workflowService.describeNamespace({ namespace: 'default' });
      expect(ns.namespaceInfo?.name).toBe('default');
      const sa = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const key of FINETUNE_SEARCH_ATTRIBUTE_KEYS)
        expect(Object.keys(sa.customAttributes ?? {})).toContain(key.name);
    } finally {
      await connection.close();
    }
    expect(fs.existsSync(path.join(dataDir, 'temporal', 'temporal.sqlite'))).toBe(true);
    expect(await httpStatus(s.urls.temporalUi!)).toBe(200);
  });

  test('Azurite answers over HTTPS (OAuth enabled) on its blob endpoint and persists under the data folder', async () => {
    const s = stack!;
    expect(s.urls.azuriteBlob).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
    expect(await httpStatus(`${s.urls.azuriteBlob!}?comp=list`, fs.readFileSync(s.caFile))).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(dataDir, 'azurite'))).toBe(true);
  });

  test('stack.json records urls, ports and pids; logs go to <dataDir>/logs', () => {
    const s = stack!;
    const rec = readStackRecord(s.stackFile!);
    expect(rec).toBeDefined();
    expect(rec!.state).toBe('running');
    expect(rec!.supervisorPid).toBe(process.pid);
    expect(rec!.processes.map((p) => p.name)).toEqual(['temporal', 'azurite']);
    expect(rec!.ports.temporal).toBe(s.ports.temporal);
    expect(rec!.env.TEMPORAL_ADDRESS).toBe(s.urls.temporalAddress);
    for (const p of s.processes) {
      expect(isAlive(p.pid)).toBe(true);
      expect(p.logFile).toBe(path.join(dataDir, 'logs', `${p.name}.log`));
      expect(fs.existsSync(p.logFile)).toBe(true);
    }
    expect(lines.some((l) => l.startsWith('temporal ready'))).toBe(true);
  });

  test('stop() leaves no child process and removes stack.json', async () => {
    const s = stack!;
    const pids = s.processes.map((p) => p.pid);
    await s.stop();
    // The stack's own record of each stop: both servers went on SIGTERM, none waited out the grace period
    // for a SIGKILL (what the wall clock cannot tell on a loaded machine).
    const stops = lines.filter((l) => /^(temporal|azurite) stopped \(/.test(l));
    expect(stops.map((l) => l.split(' ')[0]).sort()).toEqual(['azurite', 'temporal']);
    for (const l of stops) expect(l).not.toContain('SIGKILL');
    for (const pid of pids) expect(goneForGood(pid)).toBe(true);
    expect(fs.existsSync(s.stackFile!)).toBe(false);
    await s.stop(); // idempotent
  });
});
