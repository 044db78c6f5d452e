// Faults on demand, set through POST /_emulator/faults (outside ARM's paths). A rule matches
// requests by method and path pattern and either answers them itself (a status code with or
// without Retry-After, a connection reset, a delay that ends early when its rule is removed) or
// changes what the route does (the next endpoint/deployment/compute fails to provision, the next
// job fails at a chosen phase, the next creation hits a quota error). Rules fire a limited number of times and/or with a probability
// drawn from a seeded generator, so a test run is reproducible.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { JOB_PHASES, type JobPhase } from './clock';
import { ArmError } from './errors';
import { asNumber, asObject, asString, isObject } from './json';

export type FaultAction =
  | { type: 'status'; status: number; code?: string; message?: string; retryAfter?: number; retryAfterMs?: number }
  | { type: 'reset' }
  | { type: 'delay'; ms: number }
  | { type: 'failProvisioning'; code?: string; message?: string }
  | { type: 'failJob'; phase: JobPhase; fraction?: number; code?: string; message?: string }
  | { type: 'quota' };

export type EffectType = 'failProvisioning' | 'failJob' | 'quota';

export interface FaultRuleInput {
  /** HTTP method; default any (effects default to PUT). */
  method?: string;
  /** Path pattern: `*` matches any characters (also '/'), or a /regex/ (flags allowed). Case-insensitive.
   *  Default for effects: the PUT routes they apply to; for the others: every path. */
  path?: string;
  action: FaultAction;
  /** Fire at most this many times (default: unlimited). */
  count?: number;
  /** Chance (0..1] that a matching request is affected (default 1). */
  probability?: number;
  /** Seed of the generator behind `probability` (default 1). */
  seed?: number;
}

export interface FaultRule extends FaultRuleInput {
  id: string;
  /** Requests the pattern matched. */
  matched: number;
  /** Times the rule fired. */
  hits: number;
  createdAt: string;
}

/** Where each effect applies when the rule names no path. */
const EFFECT_PATHS: Record<EffectType, RegExp> = {
  failProvisioning: /\/(onlineEndpoints\/[^/]+(\/deployments\/[^/]+)?|computes\/[^/]+)$/i,
  failJob: /\/jobs\/[^/]+$/i,
  quota: /\/(onlineEndpoints\/[^/]+(\/deployments\/[^/]+)?|computes\/[^/]+)$/i,
};

const DEFAULT_CODES: Record<number, string> = {
  400: 'BadRequest',
  404: 'NotFound',
  408: 'RequestTimeout',
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

interface LiveRule {
  rule: FaultRule;
  matcher: RegExp | undefined;
  random: () => number;
  /** Requests a delay rule holds right now; removing the rule lets them go on at once. */
  held: Set<() => void>;
}

const pending = new WeakMap<FastifyRequest, LiveRule[]>();

/** Holds a request for `ms`, or until its rule is removed, whichever comes first. */
function hold(live: LiveRule, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      live.held.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    live.held.add(done);
  });
}

function release(live: LiveRule): void {
  for (const done of [...live.held]) done();
}

export class FaultInjector {
  private rules: LiveRule[] = [];
  private nextId = 1;

  add(input: unknown): FaultRule {
    const parsed = parseRule(input);
    const rule: FaultRule = {
      ...parsed,
      id: `fault-${this.nextId++}`,
      matched: 0,
      hits: 0,
      createdAt: new Date().toISOString(),
    };
    this.rules.push({
      rule,
      matcher: parsed.path !== undefined ? pathMatcher(parsed.path) : undefined,
      random: seeded(parsed.seed ?? 1),
      held: new Set(),
    });
    return { ...rule };
  }

  list(): (FaultRule & { remaining?: number })[] {
    return this.rules.map((r) => ({
      ...r.rule,
      ...(r.rule.count !== undefined ? { remaining: Math.max(0, r.rule.count - r.rule.hits) } : {}),
    }));
  }

  /** Removes every rule; requests that delay rules hold go on at once. */
  clear(): number {
    const n = this.rules.length;
    for (const live of this.rules) release(live);
    this.rules = [];
    return n;
  }

  /** Removes one rule; requests it holds (a delay) go on at once. */
  remove(id: string): boolean {
    const gone = this.rules.filter((r) => r.rule.id === id);
    this.rules = this.rules.filter((r) => r.rule.id !== id);
    for (const live of gone) release(live);
    return gone.length > 0;
  }

  /** Runs in the request hook: answers the request itself when a rule says so, and remembers the
   *  effect rules that match for the route to take. */
  async apply(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const [path = ''] = req.url.split('?', 2);
    const effects: LiveRule[] = [];
    for (const live of this.rules) {
      if (!this.matches(live, req.method, path)) continue;
      const a = live.rule.action;
      if (a.type === 'failProvisioning' || a.type === 'failJob' || a.type === 'quota') {
        effects.push(live);
        continue;
      }
      if (!this.fire(live)) continue;
      if (a.type === 'delay') {
        await hold(live, a.ms);
        continue;
      }
      if (a.type === 'reset') {
        reply.hijack();
        req.raw.socket.destroy();
        return;
      }
      const headers: Record<string, string> = {};
      if (a.retryAfter !== undefined) headers['Retry-After'] = String(a.retryAfter);
      if (a.retryAfterMs !== undefined) headers['retry-after-ms'] = String(a.retryAfterMs);
      throw new ArmError(
        a.status,
        a.code ?? DEFAULT_CODES[a.status] ?? 'InjectedFault',
        a.message ?? `Fault injected by the emulator (rule ${live.rule.id}).`,
        undefined,
        headers,
      );
    }
    if (effects.length > 0) pending.set(req, effects);
  }

  /** The route asks whether an effect applies to this request; taking it counts a hit. */
  take<T extends EffectType>(req: FastifyRequest, type: T): Extract<FaultAction, { type: T }> | undefined {
    for (const live of pending.get(req) ?? []) {
      if (live.rule.action.type !== type) continue;
      if (!this.fire(live)) continue;
      return live.rule.action as Extract<FaultAction, { type: T }>;
    }
    return undefined;
  }

  private matches(live: LiveRule, method: string, path: string): boolean {
    const r = live.rule;
    const a = r.action;
    const isEffect = a.type === 'failProvisioning' || a.type === 'failJob' || a.type === 'quota';
    const wantedMethod = r.method?.toUpperCase() ?? (isEffect ? 'PUT' : undefined);
    if (wantedMethod && wantedMethod !== method.toUpperCase()) return false;
    if (path.startsWith('/_emulator')) return false;
    const matcher = live.matcher ?? (isEffect ? EFFECT_PATHS[a.type as EffectType] : undefined);
    if (matcher && !matcher.test(path)) return false;
    return true;
  }

  private fire(live: LiveRule): boolean {
    const r = live.rule;
    if (r.count !== undefined && r.hits >= r.count) return false;
    r.matched += 1;
    if (r.probability !== undefined && live.random() >= r.probability) return false;
    r.hits += 1;
    return true;
  }
}

function pathMatcher(pattern: string): RegExp {
  // Only real RegExp flags after the last '/': `/inference/ep/score` is a path, not a regex with flags 'score'.
  const re = /^\/(.+)\/([dgimsuvy]*)$/.exec(pattern);
  if (re?.[1] && pattern.length > 2) return new RegExp(re[1], (re[2] ?? '').includes('i') ? re[2] : `${re[2] ?? ''}i`);
  const body = pattern
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 'i');
}

/** mulberry32 seeded from the rule's seed. */
function seeded(seed: number): () => number {
  let a = createHash('sha256').update(String(seed)).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bad(message: string): ArmError {
  return new ArmError(400, 'InvalidFaultRule', message);
}

/** Validates a rule from the admin API. */
export function parseRule(input: unknown): FaultRuleInput {
  const o = asObject(input);
  if (!o)
    throw bad('A fault rule is a JSON object: {method?, path?, action: {type, ...}, count?, probability?, seed?}.');
  const action = parseAction(o['action']);
  const out: FaultRuleInput = { action };
  const method = asString(o['method']);
  if (o['method'] !== undefined) {
    if (!method || !/^[A-Za-z]+$/.test(method)) throw bad('method must be an HTTP method such as GET or PUT.');
    out.method = method.toUpperCase();
  }
  if (o['path'] !== undefined) {
    const path = asString(o['path']);
    if (!path) throw bad('path must be a non-empty pattern (`*` wildcards) or a /regex/.');
    try {
      pathMatcher(path);
    } catch (err) {
      throw bad(`path is not a valid pattern: ${err instanceof Error ? err.message : String(err)}`);
    }
    out.path = path;
  }
  for (const key of ['count', 'probability', 'seed'] as const) {
    if (o[key] === undefined) continue;
    const n = asNumber(o[key]);
    if (n === undefined) throw bad(`${key} must be a number.`);
    if (key === 'count' && (!Number.isInteger(n) || n < 1)) throw bad('count must be an integer >= 1.');
    if (key === 'probability' && !(n > 0 && n <= 1)) throw bad('probability must be in (0, 1].');
    out[key] = n;
  }
  return out;
}

function parseAction(raw: unknown): FaultAction {
  if (!isObject(raw))
    throw bad("action is required: {type: 'status'|'reset'|'delay'|'failProvisioning'|'failJob'|'quota', ...}.");
  const type = asString(raw['type']);
  const code = asString(raw['code']);
  const message = asString(raw['message']);
  const extras = { ...(code ? { code } : {}), ...(message ? { message } : {}) };
  switch (type) {
    case 'status': {
      const status = asNumber(raw['status']);
      if (status === undefined || !Number.isInteger(status) || status < 400 || status > 599)
        throw bad('status must be an HTTP error status (400-599).');
      const retryAfter = asNumber(raw['retryAfter']);
      const retryAfterMs = asNumber(raw['retryAfterMs']);
      if (raw['retryAfter'] !== undefined && (retryAfter === undefined || retryAfter < 0))
        throw bad('retryAfter must be a number of seconds >= 0.');
      if (raw['retryAfterMs'] !== undefined && (retryAfterMs === undefined || retryAfterMs < 0))
        throw bad('retryAfterMs must be a number >= 0.');
      return {
        type,
        status,
        ...extras,
        ...(retryAfter !== undefined ? { retryAfter } : {}),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    }
    case 'reset':
      return { type };
    case 'delay': {
      const ms = asNumber(raw['ms']);
      if (ms === undefined || ms < 0 || ms > 600_000) throw bad('delay needs ms between 0 and 600000.');
      return { type, ms };
    }
    case 'failProvisioning':
      return { type, ...extras };
    case 'failJob': {
      const phase = asString(raw['phase']) ?? 'Running';
      if (!(JOB_PHASES as readonly string[]).includes(phase) || phase === 'NotStarted')
        throw bad(`phase must be one of ${JOB_PHASES.slice(1).join(', ')}.`);
      const fraction = raw['fraction'] === undefined ? undefined : asNumber(raw['fraction']);
      if (raw['fraction'] !== undefined && (fraction === undefined || fraction < 0 || fraction > 1))
        throw bad('fraction must be between 0 and 1.');
      return { type, phase: phase as JobPhase, ...(fraction !== undefined ? { fraction } : {}), ...extras };
    }
    case 'quota':
      return { type };
    default:
      throw bad(`Unknown action type '${type ?? ''}'.`);
  }
}
