// The contract check as request policies: before a route runs, the request must be what the
// swagger of its api-version allows (its own swagger, or for a preview api-version the nearest stable
// one's: contract/apiVersionTable.ts) (else 400 BadRequest with one detail per problem, as the
// management front end answers); after it, the response the emulator sends is checked against the
// same operation (declared status, headers, body schema). A response that breaks the contract is
// an emulator bug: it is recorded (GET /_emulator/contract) and, in 'strict' mode, replaced by a
// 500 naming the problem so no test can pass over it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Contract, resourceTypeOf, type ContractIssue, type MatchedOperation } from './contract';
import { ArmError, invalidRequest } from './errors';
import { queryParam } from './json';

export interface ContractViolation {
  time: string;
  method: string;
  path: string;
  status: number;
  operationId: string;
  /** The api-version of the request, and the swagger version that checked it. */
  apiVersion: string;
  specVersion: string;
  issues: ContractIssue[];
}

const matches = new WeakMap<FastifyRequest, MatchedOperation>();
const MAX_VIOLATIONS = 1000;

export class ContractMonitor {
  readonly contract = new Contract();
  private violations: ContractViolation[] = [];
  private counters = { requestsChecked: 0, requestsRejected: 0, responsesChecked: 0, responseViolations: 0 };
  private readonly covered = new Set<string>();

  constructor(private readonly mode: { requests: boolean; responses: 'strict' | 'record' | 'off' }) {}

  /** onRequest: remembers the operation the request addresses (so even a 401 or 429 answered
   *  before the route is checked against the operation's error schema). */
  matchRequest(req: FastifyRequest): void {
    if (!isContractSurface(req)) return;
    const apiVersion = queryParam(req.query, 'api-version');
    if (!apiVersion) return;
    const [path = ''] = req.url.split('?', 2);
    const m = this.contract.match(req.method, path, apiVersion);
    if (m) matches.set(req, m);
  }

  /** preHandler: the request's parameters and body against its operation. (An api-version that is not
   *  registered for the path's resource type was refused before: policies.ts, apiVersion.) */
  checkRequest(req: FastifyRequest): void {
    if (!isContractSurface(req)) return;
    const m = matches.get(req);
    if (!m) return;
    this.covered.add(coveredKey(m));
    if (!this.mode.requests) return;
    this.counters.requestsChecked += 1;
    const issues = this.contract.validateRequest(m, req.query, req.body);
    if (issues.length > 0) {
      this.counters.requestsRejected += 1;
      throw invalidRequest(issues);
    }
  }

  /** onSend: the response against the same operation. Returns the payload to send. */
  checkResponse(req: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
    if (this.mode.responses === 'off') return payload;
    const m = matches.get(req);
    if (!m) return payload;
    this.counters.responsesChecked += 1;
    const text =
      typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
    let body: unknown;
    let issues: ContractIssue[] = [];
    if (text !== undefined && text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        issues.push({ target: 'body', message: 'The response body is not JSON.' });
      }
    }
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(reply.getHeaders()))
      headers[k.toLowerCase()] = v === undefined ? undefined : String(v);
    issues = [...issues, ...this.contract.validateResponse(m, reply.statusCode, headers, body)];
    if (issues.length === 0) return payload;
    this.counters.responseViolations += 1;
    const [path = ''] = req.url.split('?', 2);
    const violation: ContractViolation = {
      time: new Date().toISOString(),
      method: req.method,
      path,
      status: reply.statusCode,
      operationId: m.operation.operationId,
      apiVersion: m.apiVersion,
      specVersion: m.specVersion,
      issues,
    };
    this.violations.push(violation);
    if (this.violations.length > MAX_VIOLATIONS) this.violations.splice(0, this.violations.length - MAX_VIOLATIONS);
    process.stderr.write(
      `emulator: contract violation in the response to ${req.method} ${path} (${coveredKey(m)}, status ${reply.statusCode}): ${issues.map((i) => `${i.target}: ${i.message}`).join('; ')}\n`,
    );
    if (this.mode.responses !== 'strict') return payload;
    reply.code(500).header('content-type', 'application/json; charset=utf-8');
    reply.removeHeader('content-length');
    return JSON.stringify(
      new ArmError(
        500,
        'EmulatorContractViolation',
        `The emulator's response to ${m.operation.operationId} broke the ${contractName(m)} contract: ${issues.map((i) => `${i.target}: ${i.message}`).join('; ')}`,
      ).toBody(),
    );
  }

  report(): {
    mode: { requests: boolean; responses: string };
    counters: Record<string, number>;
    covered: string[];
    violations: ContractViolation[];
  } {
    return {
      mode: { ...this.mode },
      counters: { ...this.counters },
      covered: [...this.covered].sort(),
      violations: [...this.violations],
    };
  }

  clear(): void {
    this.violations = [];
    this.counters = { requestsChecked: 0, requestsRejected: 0, responsesChecked: 0, responseViolations: 0 };
    this.covered.clear();
  }
}

function isContractSurface(req: FastifyRequest): boolean {
  const surface = req.routeOptions.config.surface;
  return surface === 'arm' || surface === 'registry';
}

/** "2023-08-01-preview Compute_Get": what GET /_emulator/contract lists as covered. */
function coveredKey(m: MatchedOperation): string {
  return `${m.apiVersion} ${m.operation.operationId}`;
}

/** "2024-04-01" or "2023-08-01-preview (checked against 2024-04-01)". */
function contractName(m: MatchedOperation): string {
  return m.apiVersion === m.specVersion ? m.specVersion : `${m.apiVersion} (checked against ${m.specVersion})`;
}

/** ARM's answer to an api-version the resource provider does not register for the type. */
export function noRegisteredProvider(
  location: string,
  path: string,
  apiVersion: string,
  versions: readonly string[],
): ArmError {
  return new ArmError(
    400,
    'NoRegisteredProviderFound',
    `No registered resource provider found for location '${location}' and API version '${apiVersion}' for type '${resourceTypeOf(path)}'. The supported api-versions are '${[...versions].sort().reverse().join(', ')}'. The supported locations are '${location}'.`,
  );
}
