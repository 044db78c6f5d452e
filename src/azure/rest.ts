// Raw HTTPS calls for what the ARM SDK cannot express (registry discovery and assets, MLflow): the same
// pipeline as the SDK (bearer token, retries on 429/5xx honouring Retry-After), returning parsed JSON.
import {
  bearerTokenAuthenticationPolicy,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  RestError,
  type HttpClient,
  type HttpMethods,
  type Pipeline,
  createDefaultHttpClient,
} from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/core-auth';
import { ARM_SCOPE } from './credentials';
import type { ArmRequestBudget } from './budget';
import { azureCallMetricsPolicy } from '../observability/azureCalls';

export interface RestResponse<T> {
  status: number;
  body: T;
}

export class AzureRestClient {
  private readonly pipeline: Pipeline;
  private readonly http: HttpClient = createDefaultHttpClient();

  constructor(credential: TokenCredential, budget?: ArmRequestBudget) {
    this.pipeline = createPipelineFromOptions({ userAgentOptions: { userAgentPrefix: 'finetune-flow' } });
    this.pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes: ARM_SCOPE }));
    if (budget) this.pipeline.addPolicy(budget.policy(), { phase: 'Serialize' });
    this.pipeline.addPolicy(azureCallMetricsPolicy('rest'), { afterPhase: 'Retry' });
  }

  /** Sends a request; non-2xx answers become RestError (classified by errors.ts) carrying the response. */
  async send<T>(method: HttpMethods, url: string, body?: unknown, signal?: AbortSignal): Promise<RestResponse<T>> {
    const request = createPipelineRequest({
      url,
      method,
      headers: createHttpHeaders({
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      }),
      body: body !== undefined ? JSON.stringify(body) : undefined,
      abortSignal: signal,
    });
    const response = await this.pipeline.sendRequest(this.http, request);
    const text = response.bodyAsText ?? '';
    if (response.status < 200 || response.status >= 300) {
      let message = `${method} ${new URL(url).pathname} answered ${response.status}`;
      let code: string | undefined;
      try {
        const parsed = JSON.parse(text) as {
          error?: { code?: string; message?: string } | string;
          message?: string;
          error_code?: string;
        };
        if (typeof parsed.error === 'object' && parsed.error) {
          code = parsed.error.code;
          message = parsed.error.message ?? message;
        } else if (typeof parsed.message === 'string') {
          code = parsed.error_code;
          message = parsed.message;
        }
      } catch {
        // Not JSON: keep the generic message.
      }
      throw new RestError(message, { statusCode: response.status, code, request, response });
    }
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  get<T>(url: string, signal?: AbortSignal): Promise<T> {
    return this.send<T>('GET', url, undefined, signal).then((r) => r.body);
  }

  post<T>(url: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.send<T>('POST', url, body, signal).then((r) => r.body);
  }
}
