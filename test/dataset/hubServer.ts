// Starts the Hub stand-in on a real local HTTP server (port 0) for the dataset tests.
import fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { hubRoutes, type HubEmulatorOptions } from '../../devstack/emulator/hub';

export interface RunningHub {
  /** HF_ENDPOINT for the clients: http://127.0.0.1:PORT/hf */
  endpoint: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** `prepare` runs before the server listens (fastify takes hooks only then), e.g. to hold or count requests. */
export async function startHub(
  opts: HubEmulatorOptions = {},
  prepare?: (app: FastifyInstance) => void,
): Promise<RunningHub> {
  const app = fastify({});
  prepare?.(app);
  await app.register(hubRoutes, { prefix: '/hf', ...opts });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}/hf`, app, close: () => app.close() };
}
