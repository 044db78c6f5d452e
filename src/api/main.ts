// The HTTP API process: `node dist/api/main.js`. Reads FTFLOW_API_HOST/PORT, the keys from
// FTFLOW_API_KEYS_FILE (or FTFLOW_API_KEYS), FTFLOW_API_RATE_LIMIT, FTFLOW_EVENT_GRID_SECRET (the job
// event receiver), and Temporal's address and credentials like the client. Prints API_READY <url> once listening; SIGTERM/SIGINT close it.
import { FineTuneClient } from '../client';
import { ENV } from '../config/env';
import { JobEventPublisher } from '../control/jobEventRelay';
import { ApiKeyStore } from './keys';
import { eventGridSecretsFromEnv } from './routes/azureEvents';
import { buildApi, DEFAULT_RATE_LIMIT_PER_MINUTE } from './server';

async function main(): Promise<void> {
  const env = process.env;
  const keys = ApiKeyStore.fromEnv(env);
  const host = env[ENV.apiHost] || '127.0.0.1';
  const port = Number(env[ENV.apiPort] || 8080);
  const rate = Number(env[ENV.apiRateLimit] || DEFAULT_RATE_LIMIT_PER_MINUTE);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${ENV.apiPort} must be a port number`);
  if (!Number.isInteger(rate) || rate < 1)
    throw new Error(`${ENV.apiRateLimit} must be a positive whole number of requests per minute`);
  const secrets = eventGridSecretsFromEnv(env);
  const client = await FineTuneClient.connect({}, env);
  const publisher = secrets ? new JobEventPublisher(client.temporal, client.taskQueue) : undefined;
  const app = await buildApi({
    client,
    keys,
    rateLimitPerMinute: rate,
    logger: true,
    ...(secrets && publisher ? { azureEvents: { secrets, publish: (events) => publisher.publish(events) } } : {}),
  });
  // The workers find the relay before the first event (they poll at their fast floor until they do); if
  // it cannot be started now, the first delivery starts it.
  publisher?.ready().catch((err: unknown) => app.log.warn({ err }, 'the job event relay could not be started yet'));
  const url = await app.listen({ host, port });
  process.stdout.write(`API_READY ${url}\n`);
  const stop = () => {
    void app.close().finally(() => client.close().finally(() => process.exit(0)));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`api: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
