// What a run trains, as one key: the model, the pipeline component, the data and the training inputs.
// Two runs with the same key would produce the same model, so scheduled and API-started runs with the
// same key de-duplicate while one of them runs. Deployment, scoring, gates and budgets are left out:
// they change what happens after training, not what is trained. Pure: usable from workflow code.
import type { RunSpec } from './schema';
import { stableHash } from './names';

/** JSON with object keys sorted at every level, so equal values always serialize the same way. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** "ck-" and 16 hex digits, e.g. ck-3f2a9c0d1e4b5a67. */
export function runContentKey(spec: Pick<RunSpec, 'model' | 'pipelineComponent' | 'dataset' | 'training'>): string {
  const trained = {
    model: spec.model,
    pipelineComponent: spec.pipelineComponent,
    dataset: spec.dataset,
    training: spec.training,
  };
  return `ck-${stableHash(canonicalJson(trained))}`;
}

/** True when two validated specs ask for exactly the same run. */
export function sameSpec(a: RunSpec, b: RunSpec): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
