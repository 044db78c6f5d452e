// Optional payload encryption (src/codec): AES-256-GCM with the key id in each payload's metadata,
// validated from FTFLOW_PAYLOAD_KEY at start-up, run by the worker's and the client's data converter,
// and a codec server the Temporal UI can call. With it on, the history Temporal stores holds no
// plaintext of the run's spec, and a run still completes.
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, createDeps } from '../../src/activities';
import { loadAzureConfig } from '../../src/azure/config';
import { FineTuneClient } from '../../src/client';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  PayloadDecryptionError,
  keyIdOf,
} from '../../src/codec/encryption';
import { PAYLOAD_KEY_ENV, dataConverterFromEnv, payloadCodecFromEnv } from '../../src/codec/config';
import { buildCodecServer } from '../../src/codec/server';
import { workerOptions } from '../../src/worker';
import { FAST_TUNING, temporalAddress, waitFor } from '../helpers/localStack';

const QUICK = { heartbeatTimeoutSeconds: 3 };
const newKey = () => randomBytes(32).toString('base64');
const payload = (value: unknown): Payload => ({
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(value)),
});
const text = (p: Payload) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8');

describe('the encryption codec', () => {
  const key = newKey();
  const codec = payloadCodecFromEnv({ [PAYLOAD_KEY_ENV]: key }) as EncryptionCodec;

  test('round-trips payloads; the encrypted form carries the key id and none of the plaintext', async () => {
    const original = [
      payload({ spec: 'plaintext-marker' }),
      payload(null),
      { metadata: { encoding: Buffer.from('binary/null') } },
    ];
    const encoded = await codec.encode(original);
    for (const p of encoded) {
      expect(Buffer.from(p.metadata?.encoding ?? []).toString()).toBe(ENCRYPTED_ENCODING);
      expect(Buffer.from(p.metadata?.[KEY_ID_METADATA] ?? []).toString()).toBe(keyIdOf(Buffer.from(key, 'base64')));
      expect(text(p)).not.toContain('plaintext-marker');
    }
    const decoded = await codec.decode(encoded);
    expect(decoded.map(text)).toEqual(original.map(text));
    expect(decoded.map((p) => Buffer.from(p.metadata?.encoding ?? []).toString())).toEqual([
      'json/plain',
      'json/plain',
      'binary/null',
    ]);
    // Unencrypted payloads (history from before encryption) pass through.
    expect(await codec.decode(original)).toEqual(original);
  });

  test('after a rotation the old key, listed in FTFLOW_PAYLOAD_OLD_KEYS, still decrypts', async () => {
    const old = await codec.encode([payload('written before the rotation')]);
    const rotated = payloadCodecFromEnv({
      FTFLOW_PAYLOAD_KEY: newKey(),
      FTFLOW_PAYLOAD_OLD_KEYS: ` ${newKey()},${key}`,
    }) as EncryptionCodec;
    expect(rotated.keyId).not.toBe(codec.keyId);
    expect((await rotated.decode(old)).map(text)).toEqual([JSON.stringify('written before the rotation')]);
  });

  test('a wrong key is a clear error naming the key id and the variable to set; a tampered payload fails authentication', async () => {
    const [sealed] = await codec.encode([payload('x')]);
    const other = payloadCodecFromEnv({ FTFLOW_PAYLOAD_KEY: newKey() }) as EncryptionCodec;
    await expect(other.decode([sealed])).rejects.toThrow(PayloadDecryptionError);
    await expect(other.decode([sealed])).rejects.toThrow(new RegExp(`key id ${codec.keyId}.*FTFLOW_PAYLOAD_OLD_KEYS`));
    const tampered = { ...sealed, data: Buffer.from(sealed.data ?? []).map((b, i) => (i === 20 ? b ^ 1 : b)) };
    await expect(codec.decode([tampered])).rejects.toThrow(/failed authentication/);
  });

  test('FTFLOW_PAYLOAD_KEY is validated at start-up with the variable and the fix in the message', async () => {
    expect(payloadCodecFromEnv({})).toBeUndefined();
    expect(dataConverterFromEnv({})).toBeUndefined();
    expect(() => payloadCodecFromEnv({ FTFLOW_PAYLOAD_KEY: 'not base64!' })).toThrow(
      /FTFLOW_PAYLOAD_KEY is not base64.*openssl rand -base64 32/,
    );
    expect(() => payloadCodecFromEnv({ FTFLOW_PAYLOAD_KEY: randomBytes(16).toString('base64') })).toThrow(
      /FTFLOW_PAYLOAD_KEY decodes to 16 bytes; AES-256 needs 32/,
    );
    expect(() => payloadCodecFromEnv({ FTFLOW_PAYLOAD_KEY: key, FTFLOW_PAYLOAD_OLD_KEYS: 'abc' })).toThrow(
      /FTFLOW_PAYLOAD_OLD_KEYS entry 1 decodes to 2 bytes/,
    );
    expect(() => payloadCodecFromEnv({ FTFLOW_PAYLOAD_OLD_KEYS: key })).toThrow(
      /FTFLOW_PAYLOAD_OLD_KEYS is set but FTFLOW_PAYLOAD_KEY is not/,
    );
    // The client (and so the CLI and the API) refuses before it connects.
    await expect(FineTuneClient.connect({ address: '127.0.0.1:1' }, { FTFLOW_PAYLOAD_KEY: 'short' })).rejects.toThrow(
      /FTFLOW_PAYLOAD_KEY decodes to 3 bytes/,
    );
  });
});

describe('a run with payload encryption on', () => {
  const key = newKey();
  const env = { ...process.env, ...FAST_TUNING, [PAYLOAD_KEY_ENV]: key };
  const marker = `spec-marker-${randomUUID().slice(0, 8)}`;
  let taskQueue: string;
  let worker: Worker;
  let running: Promise<void>;
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let plain: Client;
  let client: FineTuneClient;
  let runId: string;

  beforeAll(async () => {
    taskQueue = `test-codec-${randomUUID()}`;
    const dataConverter = dataConverterFromEnv(env);
    connection = await Connection.connect({ address: temporalAddress() });
    plain = new Client({ connection, namespace: 'default' });
    const encrypted = new Client({ connection, namespace: 'default', dataConverter });
    const activities = createActivities(createDeps(loadAzureConfig(env), env, undefined, { temporal: encrypted }));
    nativeConnection = await NativeConnection.connect({ address: temporalAddress() });
    worker = await Worker.create({
      connection: nativeConnection,
      ...workerOptions({ address: temporalAddress(), namespace: 'default', taskQueue, dataConverter }, activities),
    });
    running = worker.run();
    client = await FineTuneClient.connect({ client: encrypted, taskQueue });
    const run = await client.start({ experimentName: marker, training: { num_train_epochs: 1 } }, { options: QUICK });
    runId = run.runId;
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await nativeConnection?.close();
    await connection?.close();
  });

  test('completes, and the client reads its record, spec and events through the codec', async () => {
    const result = await client.result(runId);
    expect(result.status).toBe('succeeded');
    expect(result.endpoint).toMatchObject({ deleted: true });
    const record = await client.get(runId);
    expect(record.spec?.experimentName).toBe(marker);
    expect(record.steps.every((s) => s.status === 'completed')).toBe(true);
    const events = await client.events(runId, { limit: 500 });
    expect(events.data.some((e) => e.type.includes('completed'))).toBe(true);
  });

  test('a client without the key still lists the encrypted run (from its search attributes) instead of failing the page', async () => {
    await client.result(runId);
    const keyless = await FineTuneClient.connect({ client: plain, taskQueue });
    const listed = await waitFor('the run in the keyless list', async () => {
      let pageToken: string | undefined;
      do {
        const page = await keyless.list({ limit: 100, pageToken });
        const found = page.data.find((r) => r.id === runId && r.status === 'succeeded');
        if (found) return found;
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken !== undefined);
      return undefined;
    });
    expect(listed).toMatchObject({ id: runId, status: 'succeeded', outcome: 'succeeded' });
    expect(listed?.source).toBeUndefined();
  });

  test('the raw history holds every payload encrypted and no plaintext of the spec', async () => {
    await client.result(runId);
    const history = await plain.workflow.getHandle(runId).fetchHistory();
    const payloads: Payload[] = [];
    const plainAt: string[] = [];
    const walk = (node: unknown, key = '', path = ''): void => {
      if (typeof node !== 'object' || node === null || node instanceof Uint8Array) return;
      // Not encrypted, and holding no spec detail: search attributes (the server indexes them), headers
      // (the trace context) and patch markers (the SDK writes them itself).
      if (key === 'searchAttributes' || key === 'header' || key === 'patch-data') return;
      const m = (node as { metadata?: Record<string, Uint8Array> }).metadata;
      if (m && typeof m === 'object' && 'encoding' in m) {
        payloads.push(node as Payload);
        if (Buffer.from(m.encoding).toString() !== ENCRYPTED_ENCODING)
          plainAt.push(
            `${path}: ${Buffer.from((node as Payload).data ?? [])
              .toString()
              .slice(0, 120)}`,
          );
        return;
      }
      for (const [k, v] of Object.entries(node)) walk(v, k, `${path}.${k}`);
    };
    walk(history);
    expect(payloads.length).toBeGreaterThan(20);
    expect(plainAt).toEqual([]);
    const encodings = new Set(payloads.map((p) => Buffer.from(p.metadata?.encoding ?? []).toString()));
    expect([...encodings]).toEqual([ENCRYPTED_ENCODING]);
    const raw = JSON.stringify(history, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
    );
    expect(raw).not.toContain(marker);
    expect(raw).not.toContain('num_train_epochs');
    expect(raw).not.toContain('chat_completion_pipeline');
  });

  test('the codec server decodes the history for the Temporal UI: CORS, bearer auth, /<namespace>/decode', async () => {
    await client.result(runId);
    const codec = payloadCodecFromEnv(env);
    if (!codec) throw new Error('no codec');
    const app = buildCodecServer({ codec, corsOrigins: ['http://localhost:8233'], authToken: 'ui-token' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const history = await plain.workflow.getHandle(runId).fetchHistory();
      const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      if (!input) throw new Error('no input payload');
      const asJson = (p: Payload) => ({
        metadata: Object.fromEntries(
          Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        ),
        data: Buffer.from(p.data ?? []).toString('base64'),
      });
      const headers = {
        'content-type': 'application/json',
        origin: 'http://localhost:8233',
        'x-namespace': 'default',
        authorization: 'Bearer ui-token',
      };

      const preflight = await fetch(`${base}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://localhost:8233',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace,authorization',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
      expect(preflight.headers.get('access-control-allow-headers')).toMatch(/x-namespace/);

      for (const path of ['/decode', '/default/decode']) {
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ payloads: [asJson(input)] }),
        });
        expect(res.status).toBe(200);
        expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
        const body = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
        expect(Buffer.from(body.payloads[0].metadata.encoding, 'base64').toString()).toBe('json/plain');
        expect(Buffer.from(body.payloads[0].data, 'base64').toString()).toContain(marker);
      }
      // Encode then decode through the server.
      const enc = await fetch(`${base}/encode`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ payloads: [asJson(payload('via the UI'))] }),
      });
      const encoded = (await enc.json()) as { payloads: unknown[] };
      const dec = await fetch(`${base}/decode`, { method: 'POST', headers, body: JSON.stringify(encoded) });
      const back = (await dec.json()) as { payloads: { data: string }[] };
      expect(Buffer.from(back.payloads[0].data, 'base64').toString()).toBe(JSON.stringify('via the UI'));

      const noToken = await fetch(`${base}/decode`, {
        method: 'POST',
        headers: { ...headers, authorization: '' },
        body: JSON.stringify({ payloads: [] }),
      });
      expect(noToken.status).toBe(401);
      const otherOrigin = await fetch(`${base}/decode`, {
        method: 'OPTIONS',
        headers: { origin: 'http://evil.example' },
      });
      expect(otherOrigin.headers.get('access-control-allow-origin')).toBeNull();
      const wrongKeyServer = buildCodecServer({
        codec: payloadCodecFromEnv({ FTFLOW_PAYLOAD_KEY: newKey() }) as EncryptionCodec,
        corsOrigins: [],
      });
      await wrongKeyServer.listen({ host: '127.0.0.1', port: 0 });
      try {
        const wrong = await fetch(`http://127.0.0.1:${(wrongKeyServer.server.address() as AddressInfo).port}/decode`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ payloads: [asJson(input)] }),
        });
        expect(wrong.status).toBe(400);
        expect(((await wrong.json()) as { message: string }).message).toMatch(/FTFLOW_PAYLOAD_OLD_KEYS/);
      } finally {
        await wrongKeyServer.close();
      }
    } finally {
      await app.close();
    }
  });
});
