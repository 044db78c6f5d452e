// The run's search attributes: one typed key per attribute, as plain data. Safe to import from
// workflow code (no Node imports, only @temporalio/common). The stack registers exactly this list
// on the dev server (`--search-attribute Name=Type`); production namespaces need the same list
// registered once (`temporal operator search-attribute create --name <Name> --type <Type>`).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const FINETUNE_SEARCH_ATTRIBUTES = {
  stage: defineSearchAttributeKey('FineTuneStage', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('FineTuneStatus', SearchAttributeType.KEYWORD),
  model: defineSearchAttributeKey('FineTuneModel', SearchAttributeType.KEYWORD),
  dataset: defineSearchAttributeKey('FineTuneDataset', SearchAttributeType.KEYWORD),
  runKey: defineSearchAttributeKey('FineTuneRunKey', SearchAttributeType.KEYWORD),
  /** What the run trains (spec/contentKey.ts): runs with the same key de-duplicate. Set at start only. */
  contentKey: defineSearchAttributeKey('FineTuneContentKey', SearchAttributeType.KEYWORD),
} as const;

export type FineTuneSearchAttributeName = keyof typeof FINETUNE_SEARCH_ATTRIBUTES;

/** The same keys as a list, in a stable order. */
export const FINETUNE_SEARCH_ATTRIBUTE_KEYS = [
  FINETUNE_SEARCH_ATTRIBUTES.stage,
  FINETUNE_SEARCH_ATTRIBUTES.status,
  FINETUNE_SEARCH_ATTRIBUTES.model,
  FINETUNE_SEARCH_ATTRIBUTES.dataset,
  FINETUNE_SEARCH_ATTRIBUTES.runKey,
  FINETUNE_SEARCH_ATTRIBUTES.contentKey,
] as const;

/**
 * Temporal's own TemporalNamespaceDivision attribute (built in; nothing to register). A list query that does
 * not name it (the Temporal UI's default list, `temporal workflow list`) shows only workflows without it,
 * which is how Temporal keeps its own schedulers out of the list. The service's housekeeping workflows carry
 * it, so the default list shows runs (docs/operations.md, In the Temporal UI).
 */
export const NAMESPACE_DIVISION = defineSearchAttributeKey('TemporalNamespaceDivision', SearchAttributeType.KEYWORD);

/** The divisions: list them with `TemporalNamespaceDivision = '<value>'`. */
export const DIVISIONS = {
  /** Janitor sweeps (scheduled, and `ftflow janitor run`). */
  janitor: 'ftflow-janitor',
  /** Retraining schedule ticks (scheduledFineTune); the run a tick starts is listed as usual. */
  scheduleTicks: 'ftflow-schedule-ticks',
  /** The job event relay (pushed job events from the API to the workers). */
  jobEvents: 'ftflow-job-events',
  /** Each API key's webhook registry (webhookRegistry): long-running, one per key. */
  webhooks: 'ftflow-webhooks',
} as const;
