// Which version registerModel gives the fine-tuned model: readable integers, as Azure ML users expect
// ("1", "2", ...): the model container's next version (Azure's own auto-increment, `nextVersion`), and the
// run's own version when it already has one (tagged with the run id, from this run's job), so a retried
// or resumed step never registers twice. Pure, but for the worker's claims: the activity makes the calls.

/** What a listed model version says about itself (ModelVersions_List / Get). */
export interface ListedVersion {
  /** The version ("3"): ARM's resource name of a model version. */
  name?: string;
  properties?: { modelUri?: string; tags?: Record<string, string> };
}

/** An integer version as registerModel counts them: no leading zero, at most 9 digits. */
const INTEGER_VERSION = /^[1-9]\d{0,8}$/;

/**
 * The version after the highest integer version ("1" when there is none). Other versions are skipped: labels,
 * and the 12-hex-digit versions runs registered before integer versions (all digits now and then, hence
 * integers of at most 9 digits, without a leading zero).
 */
export function nextIntegerVersion(versions: readonly string[]): string {
  let highest = 0;
  for (const v of versions) {
    if (!INTEGER_VERSION.test(v)) continue;
    highest = Math.max(highest, Number(v));
  }
  return String(highest + 1);
}

/** The container's `nextVersion` when it is an integer version (else the versions have to be listed). */
export function containerNextVersion(nextVersion: string | null | undefined): string | undefined {
  return nextVersion && INTEGER_VERSION.test(nextVersion) ? nextVersion : undefined;
}

/**
 * The version this run registered already: tagged with its run id and made from this job's output.
 * A version tagged with the run id but from another output (a run resumed onto a new job) is not it.
 */
export function ownVersion(
  versions: readonly ListedVersion[],
  tag: string,
  runId: string,
  modelUri: string,
): string | undefined {
  return versions.find((v) => v.properties?.tags?.[tag] === runId && v.properties?.modelUri === modelUri)?.name;
}

/** `ftflow-run=<run id>`: ModelVersions_List's tag filter for the versions a run registered. */
export function runTagFilter(tag: string, runId: string): string {
  return `${tag}=${runId}`;
}

/** registerModel's heartbeat: the version it is about to create, so a retry looks there first. */
export interface RegisterModelProgress {
  version?: string;
}

/** How often registerModel picks the next free integer when other workers keep taking it first. */
export const MAX_VERSION_CLAIMS = 5;

/**
 * The versions this worker's registrations are creating right now, per model: runs that register the same
 * model at the same moment get consecutive numbers instead of racing for the container's one `nextVersion`
 * (at 1,000 runs that race cost a 409 and a retry per loser). Other workers are still raced: their 409
 * sends the loser to the next number.
 */
export class VersionClaims {
  private readonly next = new Map<string, number>();

  /** A version of `model` no registration of this worker holds: the container's next, or after the last claimed. */
  claim(model: string, containerNext: string): string {
    const version = Math.max(Number(containerNext), this.next.get(model) ?? 0);
    this.next.set(model, version + 1);
    return String(version);
  }

  /** Another worker holds `version`: this worker's next claim is after it. */
  taken(model: string, version: string): void {
    this.next.set(model, Math.max(this.next.get(model) ?? 0, Number(version) + 1));
  }
}
