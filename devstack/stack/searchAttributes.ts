// Search attributes as the stack registers them on the Temporal dev server. The key list itself is
// plain data in src/config/searchAttributes.ts (importable from workflow code).
import type { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { FINETUNE_SEARCH_ATTRIBUTE_KEYS, FINETUNE_SEARCH_ATTRIBUTES } from 'finetune-flow/config';

export { FINETUNE_SEARCH_ATTRIBUTE_KEYS, FINETUNE_SEARCH_ATTRIBUTES };

interface KeyLike {
  readonly name: string;
  readonly type: SearchAttributeType;
}

// The Temporal CLI's spelling of each type (`--search-attribute Name=Keyword`).
const CLI_TYPE_NAME: Record<SearchAttributeType, string> = {
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

// temporal.api.enums.v1.IndexedValueType numbers (the same table as @temporalio/common's internal
// encodeSearchAttributeIndexedValueType, which the package does not export).
const INDEXED_VALUE_TYPE: Record<SearchAttributeType, number> = {
  [SearchAttributeType.TEXT]: 1,
  [SearchAttributeType.KEYWORD]: 2,
  [SearchAttributeType.INT]: 3,
  [SearchAttributeType.DOUBLE]: 4,
  [SearchAttributeType.BOOL]: 5,
  [SearchAttributeType.DATETIME]: 6,
  [SearchAttributeType.KEYWORD_LIST]: 7,
};

/** `Name=Type` pairs, e.g. `FineTuneStage=Keyword`. */
export function searchAttributeSpecs(keys: readonly KeyLike[] = FINETUNE_SEARCH_ATTRIBUTE_KEYS): string[] {
  return keys.map((k) => `${k.name}=${CLI_TYPE_NAME[k.type]}`);
}

/** `--search-attribute Name=Type` arguments for `temporal server start-dev`. */
export function searchAttributeArgs(keys: readonly KeyLike[] = FINETUNE_SEARCH_ATTRIBUTE_KEYS): string[] {
  return searchAttributeSpecs(keys).flatMap((spec) => ['--search-attribute', spec]);
}

/**
 * Makes sure every key is registered in the namespace (the dev server registers them from its
 * flags; this also covers a server started some other way). Returns the names it had to add.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly KeyLike[] = FINETUNE_SEARCH_ATTRIBUTE_KEYS,
): Promise<string[]> {
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  const existing = listed.customAttributes ?? {};
  const missing = keys.filter((k) => !(k.name in existing));
  if (missing.length === 0) return [];
  const searchAttributes: Record<string, number> = {};
  for (const k of missing) searchAttributes[k.name] = INDEXED_VALUE_TYPE[k.type];
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  return missing.map((k) => k.name);
}
