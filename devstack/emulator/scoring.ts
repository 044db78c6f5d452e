// The scoring URI of managed online endpoints: POST /inference/{endpoint}/score with the endpoint
// key as bearer. Routing follows `azureml-model-deployment` or the traffic split; the reply is a
// deterministic text derived from the conversation, in the foundation-model-inference shape.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { lifecycleState } from './clock';
import { sameName, type EmulatorContext } from './context';
import { asArray, asNumber, asObject, asString } from './json';
import { endpointTraffic, liveDeployments, liveEndpoint } from './arm/onlineEndpoints';
import type { DeploymentRecord } from './store';

interface ChatMessage {
  role: string;
  content: string;
}

class ScoringInputError extends Error {}

function parseConversation(body: unknown): { messages: ChatMessage[]; maxNewTokens: number | undefined } {
  const inputData = asObject(asObject(body)?.['input_data']);
  if (!inputData)
    throw new ScoringInputError("The request must have an 'input_data' object with 'input_string' and 'parameters'.");
  const inputString = asArray(inputData['input_string']);
  if (!inputString || inputString.length === 0)
    throw new ScoringInputError("'input_data.input_string' must be a non-empty list of messages.");
  // A flat list is one conversation; a list of lists is several (the first one is answered).
  const first = Array.isArray(inputString[0]) ? (asArray(inputString[0]) ?? []) : inputString;
  const messages = first.map((m, i) => {
    const o = asObject(m);
    const role = asString(o?.['role']);
    const content = asString(o?.['content']);
    if (!role || content === undefined)
      throw new ScoringInputError(`Message ${i} must be an object with string 'role' and 'content'.`);
    return { role, content };
  });
  if (messages.length === 0) throw new ScoringInputError('The conversation has no messages.');
  // A conversation may end with the assistant's turn (the notebook sends a whole test_gen conversation):
  // the model continues it. One without any user message has nothing to answer.
  if (!messages.some((m) => m.role === 'user'))
    throw new ScoringInputError("The conversation has no message with role 'user'.");
  const maxNewTokens = asNumber(asObject(inputData['parameters'])?.['max_new_tokens']);
  return { messages, maxNewTokens };
}

const OPENINGS = ['Sure.', 'Good question.', 'Here is a short answer.', 'Happy to help.', 'Let me explain.'];
const BODIES = [
  'The key point about {topic} is to start from the basics and build up step by step.',
  'When it comes to {topic}, it helps to compare a few options before deciding.',
  'In short, {topic} depends on the context, but a practical approach works well.',
  'For {topic}, the most useful thing is a clear example, so consider a simple case first.',
];

/** The deployment's answer: deterministic in (deployment, model, conversation). */
export function replyText(
  deployment: DeploymentRecord,
  messages: readonly ChatMessage[],
  maxNewTokens: number | undefined,
): string {
  const model = asString(deployment.properties['model']) ?? '';
  const digest = createHash('sha256')
    .update(`${deployment.name}\n${model}\n${JSON.stringify(messages)}`)
    .digest();
  const last = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const topic =
    last
      .replace(/\s+/g, ' ')
      .trim()
      .split(' ')
      .slice(0, 8)
      .join(' ')
      .replace(/[?.!,;:]+$/, '') || 'this';
  const text = `${OPENINGS[(digest[0] ?? 0) % OPENINGS.length] ?? ''} ${(BODIES[(digest[1] ?? 0) % BODIES.length] ?? '').replace('{topic}', `"${topic}"`)}`;
  if (maxNewTokens === undefined || maxNewTokens <= 0) return text;
  return text
    .split(' ')
    .slice(0, Math.max(1, Math.floor(maxNewTokens)))
    .join(' ');
}

function fail(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}

export function registerScoringRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  app.post<{ Params: { endpointName: string } }>(
    '/inference/:endpointName/score',
    { config: { surface: 'scoring' } },
    (req, reply) => {
      const endpoint = liveEndpoint(ctx, req.params.endpointName);
      const now = ctx.now();
      const state = endpoint ? lifecycleState(endpoint.lifecycle, now) : undefined;
      if (!endpoint || state === 'Creating' || state === 'Deleting') {
        return fail(reply, 404, 'EndpointNotFound', `Endpoint '${req.params.endpointName}' was not found.`);
      }
      const key = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!key || (key !== endpoint.keys.primaryKey && key !== endpoint.keys.secondaryKey)) {
        return reply
          .code(401)
          .header('WWW-Authenticate', 'Bearer')
          .send({
            error: {
              code: 'Unauthorized',
              message:
                'Key-based authentication failed: send one of the endpoint keys as "Authorization: Bearer <key>".',
            },
          });
      }
      const succeeded = liveDeployments(ctx, endpoint).filter((d) => lifecycleState(d.lifecycle, now) === 'Succeeded');
      const header = req.headers['azureml-model-deployment'];
      const wanted = typeof header === 'string' && header !== '' ? header : undefined;
      let deployment: DeploymentRecord | undefined;
      if (wanted) {
        deployment = succeeded.find((d) => sameName(d.name, wanted));
        if (!deployment)
          return fail(
            reply,
            404,
            'DeploymentNotFound',
            `Deployment '${wanted}' was not found on endpoint '${endpoint.name}' or is not ready.`,
          );
      } else {
        const traffic = endpointTraffic(endpoint);
        deployment = succeeded
          .filter((d) => (traffic[d.name] ?? 0) > 0)
          .sort((a, b) => (traffic[b.name] ?? 0) - (traffic[a.name] ?? 0))[0];
        if (!deployment) {
          return fail(
            reply,
            424,
            'NoValidDeployments',
            'No valid deployments to route to. Check that the endpoint has at least one deployment with positive traffic, or name one in the azureml-model-deployment header.',
          );
        }
      }
      let conversation: ReturnType<typeof parseConversation>;
      try {
        conversation = parseConversation(req.body);
      } catch (err) {
        if (err instanceof ScoringInputError)
          return fail(reply, 400, 'BadRequest', `Error in processing request: ${err.message}`);
        throw err;
      }
      reply.header('azureml-model-deployment', deployment.name);
      return { output: replyText(deployment, conversation.messages, conversation.maxNewTokens) };
    },
  );
}
