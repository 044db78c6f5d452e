// Which version registerModel gives the fine-tuned model: readable integers, as Azure ML users expect
// ("1", "2", ...), the next after the highest the model has, and the run's own version when it already
// has one (tagged with the run id, from this run's job), so a retried or resumed step never registers
// twice. Pure: the activity lists the versions and makes the calls.

/** What a listed model version says about itself (ModelVersions_List / Get). */
export interface ListedVersion {
  /** The version ("3"): ARM's resource name of a model version. */
  name?: string;
  properties?: { modelUri?: string; tags?: Record<string, string> };
}

/**
 * The version after the highest integer version ("1" when there is none). Other versions are skipped: labels,
 * and the 12-hex-digit versions runs registered before integer versions (all digits now and then, hence
 * integers of at most 9 digits, without a leading zero).
 */
export function nextIntegerVersion(versions: readonly string[]): string {
  let highest = 0;
  for (const v of versions) {
    if (!/^[1-9]\d{0,8}$/.test(v)) continue;
    highest = Math.max(highest, Number(v));
  }
  return String(highest + 1);
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

/** registerModel's heartbeat: the version it is about to create, so a retry looks there first. */
export interface RegisterModelProgress {
  version?: string;
}

/** How often registerModel picks the next free integer when other runs keep taking it first. */
export const MAX_VERSION_CLAIMS = 5;
