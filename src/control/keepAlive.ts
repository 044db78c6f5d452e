// Keeping a run's endpoint alive after its smoke test, as callers ask for it: extend it by some time, or end
// it now. One check for the CLI (`ftflow keep-alive <run> --extend 2h | --end`), the API (POST
// /v1/fine-tunes/{id}/keep-alive) and the client's keepAlive(); each names its own fields in the errors.
import { msToNumber } from '@temporalio/common/lib/time';
import type { Duration } from '@temporalio/common';
import { MAX_KEEP_ALIVE_MINUTES } from '../runSpec/defaults';
import type { EndpointLifetimeChange } from '../workflows/definitions';
import { invalid } from './errors';

/** What a caller asks: exactly one of the two. */
export interface KeepAliveRequest {
  /** Minutes to add to the endpoint's keep-alive time. */
  extendMinutes?: number;
  /** End the keep-alive now: the endpoint is deleted at once. */
  end?: boolean;
}

export interface KeepAliveOutcome {
  id: string;
  object: 'fine_tune.keep_alive';
  endpointName: string;
  /** When the endpoint will now be deleted (ISO); null: it is being deleted now. */
  expiresAt: string | null;
  message: string;
}

/** How the front end calls the two fields, for error messages ("--extend", "extendMinutes"). */
export interface KeepAliveFieldNames {
  extend: string;
  end: string;
}

const API_FIELDS: KeepAliveFieldNames = { extend: 'extendMinutes', end: 'end' };

/** The workflow's endpointLifetime change for a request; refuses anything else, naming the field. */
export function keepAliveChange(
  req: KeepAliveRequest,
  fields: KeepAliveFieldNames = API_FIELDS,
): EndpointLifetimeChange {
  const extending = req.extendMinutes !== undefined;
  const ending = req.end !== undefined && req.end !== false;
  if (extending === ending)
    throw invalid(
      fields.extend,
      `give ${fields.extend} (how much longer to serve) or ${fields.end} (delete it now), one of the two`,
    );
  if (ending) {
    if (req.end !== true) throw invalid(fields.end, 'must be true');
    return { endNow: true };
  }
  const minutes = req.extendMinutes;
  if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes <= 0)
    throw invalid(fields.extend, 'must be a number of minutes greater than 0');
  if (minutes > MAX_KEEP_ALIVE_MINUTES)
    throw invalid(fields.extend, `an endpoint may be kept at most ${MAX_KEEP_ALIVE_MINUTES} minutes (7 days) ahead`);
  return { extendMinutes: minutes };
}

/** "2h", "90m", "1h30m", "1 day", or a bare number of minutes ("45"), as minutes. */
export function durationMinutes(text: string, field: string): number {
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  let ms = NaN;
  try {
    ms = value
      .split(/(?<=[a-z])(?=\d)/i)
      .map((part) => msToNumber(part.trim() as Duration))
      .reduce((a, b) => a + b, 0);
  } catch {
    ms = NaN;
  }
  if (!Number.isFinite(ms) || ms <= 0)
    throw invalid(field, `must be a duration such as "2h", "90m" or "1h30m", or a number of minutes (got "${text}")`);
  return ms / 60_000;
}

/** The sentence the CLI prints and the API returns. */
export function keepAliveMessage(runId: string, endpointName: string, expiresAt: string | null): string {
  return expiresAt === null
    ? `run ${runId}: endpoint ${endpointName} is being deleted now`
    : `run ${runId}: endpoint ${endpointName} serves until ${expiresAt}, then it is deleted`;
}
