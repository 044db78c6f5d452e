// Step 10. Sends one conversation from the staged scoring split to the endpoint with its key and checks
// the reply, as the notebook's invoke cell does. Idempotent (a read of the model); the key is fetched
// here and never leaves the activity.
import { createInterface } from 'node:readline';
import type { ActivityDeps } from './deps';
import type { SmokeScoreInput, SmokeScoreResult } from './types';
import { classified, RunFailure } from '../azure/errors';
import { scoreEndpoint } from '../azure/scoring';
import { withHeartbeat } from './heartbeat';

interface Message {
  role: string;
  content: string;
}

/** The first staged conversation, cut after its last user turn (the predictor answers a user turn). */
async function sampleConversation(deps: ActivityDeps, blobPath: string): Promise<Message[]> {
  const ds = await deps.datastore();
  const download = await ds.container.getBlobClient(blobPath).download(0, 4 * 1024 * 1024);
  if (!download.readableStreamBody) throw new RunFailure('transient', `could not read ${blobPath}`);
  const lines = createInterface({ input: download.readableStreamBody as NodeJS.ReadableStream, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (!line.trim()) continue;
      const row = JSON.parse(line) as { messages?: Message[] };
      const messages = row.messages ?? [];
      const lastUser = messages.map((m) => m.role).lastIndexOf('user');
      if (lastUser >= 0) return messages.slice(0, lastUser + 1);
    }
  } finally {
    lines.close();
    download.readableStreamBody.removeAllListeners();
  }
  throw new RunFailure(
    'validation',
    `the scoring split at ${blobPath} has no conversation with a user turn`,
    'NoScoringSample',
  );
}

export function makeSmokeScore(deps: ActivityDeps) {
  const { config, arm } = deps;
  return async function smokeScore(input: SmokeScoreInput): Promise<SmokeScoreResult> {
    return classified('smokeScore', () =>
      withHeartbeat(async (signal) => {
        const messages = await sampleConversation(deps, input.sampleBlobPath);
        const endpoint = await arm.onlineEndpoints.get(config.resourceGroup, config.workspace, input.endpointName, {
          abortSignal: signal,
        });
        const scoringUri = endpoint.properties.scoringUri;
        if (!scoringUri) throw new RunFailure('transient', `endpoint ${input.endpointName} has no scoring URI`);
        const keys = await arm.onlineEndpoints.listKeys(config.resourceGroup, config.workspace, input.endpointName, {
          abortSignal: signal,
        });
        if (!keys.primaryKey)
          throw new RunFailure('auth', `endpoint ${input.endpointName} returned no key`, 'NoEndpointKey');
        const result = await scoreEndpoint(
          scoringUri,
          keys.primaryKey,
          input.deploymentName,
          { input_data: { input_string: messages, parameters: input.parameters }, params: {} },
          signal,
        );
        const prompt = messages[messages.length - 1]?.content ?? '';
        return {
          promptPreview: prompt.slice(0, 120),
          replyPreview: result.reply.slice(0, 200),
          replyChars: result.reply.length,
          latencyMs: result.latencyMs,
        };
      }),
    );
  };
}
