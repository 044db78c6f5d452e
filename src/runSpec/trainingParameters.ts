// Builds the pipeline's training inputs as the notebook does (its defaults, then the model's
// model_specific_defaults win), then explicit user values win over both. Keys the component does not
// declare are dropped with a note (azure-ai-ml would raise on them; the user cannot act on it); values are checked against the
// declared type, enum and minimum and sent as strings, as azure-ai-ml serialises literal inputs.
// Keys are looked up as own properties only: "constructor" or "toString" is not an input because every
// object inherits one.
import type { ParameterValue } from './displayName';

export interface DeclaredInput {
  type: string;
  optional?: boolean;
  default?: unknown;
  enum?: readonly unknown[] | null;
  min?: number | null;
  max?: number | null;
}

export interface MergedParameters {
  /** Merged values before stringification (used for the display name). */
  values: Record<string, ParameterValue>;
  /** Stringified values to send as literal job inputs. */
  literals: Record<string, string>;
  /** What the caller should act on. */
  warnings: string[];
  /**
   * What happened that nobody can act on: defaults (the notebook's or the model's) the component does not
   * declare, dropped as azure-ai-ml would refuse them. Kept on the record, never shown as a warning.
   */
  notes: string[];
  errors: string[];
}

/** Reads `inputs` of a component spec (map form, as in the component YAML). */
export function declaredInputs(componentSpec: Record<string, unknown> | undefined): Record<string, DeclaredInput> {
  const inputs = componentSpec?.inputs;
  const result: Record<string, DeclaredInput> = {};
  if (Array.isArray(inputs)) {
    for (const entry of inputs) {
      if (typeof entry === 'object' && entry !== null && typeof (entry as { name?: unknown }).name === 'string') {
        const { name, ...rest } = entry as { name: string } & DeclaredInput;
        if (name !== '__proto__') result[name] = rest;
      }
    }
  } else if (typeof inputs === 'object' && inputs !== null) {
    for (const [name, value] of Object.entries(inputs)) {
      if (typeof value === 'object' && value !== null && name !== '__proto__') result[name] = value as DeclaredInput;
    }
  }
  return result;
}

const USER = 'training parameter';

function stringify(value: ParameterValue): string {
  return typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value);
}

function checkValue(name: string, value: ParameterValue, input: DeclaredInput, source: string): string | undefined {
  const text = stringify(value);
  // The user's own values are named by their field in the run spec, so the message says what to change.
  const where =
    source === USER ? `training.${name} = ${JSON.stringify(value)}` : `${source} "${name}" = ${JSON.stringify(value)}`;
  switch (input.type) {
    case 'integer':
      if (!/^-?\d+$/.test(text)) return `${where} must be an integer`;
      break;
    case 'number':
      if (!Number.isFinite(Number(text)) || text.trim() === '') return `${where} must be a number`;
      break;
    case 'boolean':
      if (!/^(true|false)$/i.test(text)) return `${where} must be true or false`;
      break;
    case 'string':
      break;
    default:
      return `${where}: input of type ${input.type} cannot be set as a training parameter`;
  }
  if (Array.isArray(input.enum) && input.enum.length > 0 && !input.enum.map(String).includes(text)) {
    return `${where} must be one of ${input.enum.map(String).join(', ')}`;
  }
  if (typeof input.min === 'number' && Number(text) < input.min) return `${where} must be at least ${input.min}`;
  if (typeof input.max === 'number' && Number(text) > input.max) return `${where} must be at most ${input.max}`;
  return undefined;
}

export function mergeTrainingParameters(
  seed: Readonly<Record<string, ParameterValue>>,
  modelDefaults: Readonly<Record<string, ParameterValue>> | undefined,
  user: Readonly<Record<string, ParameterValue>>,
  declared: Record<string, DeclaredInput>,
  reserved: ReadonlySet<string>,
): MergedParameters {
  const warnings: string[] = [];
  const notes: string[] = [];
  const errors: string[] = [];
  const values: Record<string, ParameterValue> = {};
  const sourceOf: Record<string, string> = {};
  const layers: [string, Readonly<Record<string, ParameterValue>>][] = [
    ['seed default', seed],
    ['model default', modelDefaults ?? {}],
    [USER, user],
  ];
  for (const [source, layer] of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (reserved.has(key)) {
        if (source === USER)
          errors.push(`training.${key} is set by finetune-flow itself (from the compute, model or dataset): remove it`);
        continue;
      }
      if (!Object.hasOwn(declared, key)) {
        const msg = `${source} "${key}" is not an input of the pipeline component; dropped`;
        if (source === USER)
          errors.push(`training.${key} is not an input of the pipeline component: remove it or check the spelling`);
        else notes.push(msg);
        continue;
      }
      values[key] = value;
      sourceOf[key] = source;
    }
  }
  const literals: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    const problem = checkValue(key, value, declared[key], sourceOf[key]);
    if (problem) errors.push(problem);
    else literals[key] = stringify(value);
  }
  return { values, literals, warnings, notes, errors };
}
