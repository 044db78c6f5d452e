// Scoring a managed online endpoint (data plane): key auth, so plain fetch rather than the ARM pipeline,
// whose bearer-token policy would overwrite the Authorization header.
import { RunFailure } from './errors';

export interface ScoreRequest {
  input_data: {
    input_string: { role: string; content: string }[];
    parameters: Record<string, string | number | boolean>;
  };
  params: Record<string, never>;
}

export interface ScoreResult {
  status: number;
  reply: string;
  latencyMs: number;
}

/** Extracts the reply from `{"output": "..."}` or the MLflow records form (`[{"0": "..."}]`). */
export function replyText(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const output = (body as { output?: unknown }).output;
    if (typeof output === 'string') return output;
  }
  if (Array.isArray(body) && body.length > 0) {
    const first: unknown = body[0];
    if (typeof first === 'string') return first;
    if (typeof first === 'object' && first !== null) {
      const value = Object.values(first)[0];
      if (typeof value === 'string') return value;
    }
  }
  return undefined;
}

export async function scoreEndpoint(
  scoringUri: string,
  key: string,
  deploymentName: string,
  request: ScoreRequest,
  signal?: AbortSignal,
): Promise<ScoreResult> {
  const started = Date.now();
  const response = await fetch(scoringUri, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${key}`,
      'azureml-model-deployment': deploymentName,
    },
    body: JSON.stringify(request),
    signal,
  });
  const text = await response.text();
  const latencyMs = Date.now() - started;
  if (!response.ok) {
    const kind =
      response.status === 429
        ? 'throttled'
        : response.status >= 500 || response.status === 424
          ? 'transient'
          : response.status === 401 || response.status === 403
            ? 'auth'
            : 'validation';
    throw new RunFailure(
      kind,
      `scoring ${new URL(scoringUri).host} answered ${response.status}: ${text.slice(0, 300)}`,
      `Scoring${response.status}`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RunFailure('validation', `scoring answered non-JSON: ${text.slice(0, 200)}`, 'ScoringBadResponse');
  }
  const reply = replyText(body);
  if (reply === undefined || reply.trim().length === 0) {
    throw new RunFailure(
      'validation',
      `scoring answered without a reply text: ${text.slice(0, 200)}`,
      'ScoringBadResponse',
    );
  }
  return { status: response.status, reply, latencyMs };
}
