// Deterministic chat rows with ultrachat_200k's schema:
//   prompt: string, prompt_id: 64-hex string, messages: list<struct<content: string, role: string>>
// Conversations alternate user/assistant starting with user; prompt is the first user message and
// prompt_id its sha256. Text is English-like filler of varied length with some non-ASCII
// characters (accents, Greek, Cyrillic, CJK, emoji outside the BMP), slashes, quotes, backslashes,
// tabs and newlines, so the JSONL escaping is exercised.
//
// Every row is a pure function of (seed, split, row index), so each row can be regenerated on its own,
// which is how tests check what a reader returns. A few rows are invalid on purpose at fixed
// positions (see invalidReasonAt).

import { createHash } from 'node:crypto';
import { SPLITS, type SplitName } from './layout';

export interface GeneratedMessage {
  content: string;
  role: string;
}

export interface GeneratedRow {
  prompt: string;
  prompt_id: string;
  /** null = a missing value in the parquet column. */
  messages: GeneratedMessage[] | null;
}

export interface GeneratorConfig {
  seed: number;
  /** One row in every `invalidEvery` is invalid; 0 = none. */
  invalidEvery: number;
  /** Multiplies the number of sentences per message (1 ≈ 1.5 KB of text per row on average). */
  contentScale: number;
}

/**
 * The kinds of invalid rows the generator plants, named by the reason the product's row validation reports
 * (test/dataset/hubEmulator.test.ts holds the two lists together; the stand-in does not import the product's
 * dataset code, so a bug there cannot hide in both).
 */
export const PLANTED_INVALID_KINDS = [
  'messages_empty',
  'no_assistant_turn',
  'empty_content',
  'bad_role',
  'messages_missing',
] as const;

export type PlantedInvalidKind = (typeof PLANTED_INVALID_KINDS)[number];

/**
 * The planted defect of row `index` (or undefined for a valid row): rows with
 * index % invalidEvery === floor(2 * invalidEvery / 3) are invalid, the kind cycling through
 * PLANTED_INVALID_KINDS. With invalidEvery = 200 that is rows 133, 333, 533, … (0.5%).
 */
export function invalidReasonAt(index: number, invalidEvery: number): PlantedInvalidKind | undefined {
  if (!(invalidEvery > 0)) return undefined;
  if (index % invalidEvery !== Math.floor((2 * invalidEvery) / 3)) return undefined;
  return PLANTED_INVALID_KINDS[Math.floor(index / invalidEvery) % PLANTED_INVALID_KINDS.length];
}

/** All invalid rows among the first `rows` rows of a split, with the reason validation gives. */
export function plantedInvalidRows(
  rows: number,
  invalidEvery: number,
): { index: number; reason: PlantedInvalidKind }[] {
  const out: { index: number; reason: PlantedInvalidKind }[] = [];
  if (!(invalidEvery > 0)) return out;
  for (let index = Math.floor((2 * invalidEvery) / 3); index < rows; index += invalidEvery) {
    const reason = invalidReasonAt(index, invalidEvery);
    if (reason) out.push({ index, reason });
  }
  return out;
}

// ---- deterministic randomness ----

// Local bindings: global lookups are slow inside vm contexts (jest), and this code runs per word.
const imul = Math.imul;
const floor = Math.floor;
const round = Math.round;
const max = Math.max;
const min = Math.min;

function mix32(h: number): number {
  h = imul(h ^ (h >>> 16), 0x85ebca6b);
  h = imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32 seeded from (seed, split, index). */
function rowRandom(seed: number, split: SplitName, index: number): () => number {
  let state = mix32(mix32(mix32(seed >>> 0) ^ ((SPLITS.indexOf(split) + 1) * 0x9e3779b9)) ^ mix32(index + 0x632be5ab));
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the a of to and in is it that for on with as this be are by from at or an can will your you we ' +
  'data model time system people water energy garden recipe travel history music city river market ' +
  'health sleep exercise budget project team design process answer question example result method ' +
  'simple important different practical common useful careful quick gentle modern local global ' +
  'explain describe compare consider improve create prepare discover measure balance support share ' +
  'because however therefore also often usually especially finally first second next then while ' +
  'morning evening weekend season climate forest mountain ocean island village library museum ' +
  'student teacher writer artist engineer doctor farmer chef traveler scientist community family ' +
  'story poem letter report summary guide plan list table chart idea option benefit risk cost ' +
  'light color sound shape size speed distance weight temperature pressure signal network server ' +
  'coffee bread cheese apple tomato garlic olive pepper lemon honey rice bean soup salad dessert ' +
  'build learn read write listen travel cook plant grow save spend choose change keep start finish'
).split(' ');

const NON_ASCII = [
  'café',
  'naïve',
  'Zürich',
  'São Paulo',
  'résumé',
  'piñata',
  'Kraków',
  'façade',
  'Ελλάδα',
  'привет',
  '東京',
  '日本語',
  'español',
  '—',
  '…',
  '😀',
  '🚀',
  '“quoted”',
  '½',
  'Ωmega',
  'Ça va',
  'Ådne',
];

const SPECIAL = [
  'and/or',
  'https://example.org/docs/guide',
  'input/output',
  '1/2 cup',
  'C:\\Users\\demo',
  '"quoted"',
  "it's",
  '`x = y / 2`',
  '<b>bold</b>',
  'A&B',
  '50%',
  '#tag',
  'tab\there',
];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[floor(rand() * list.length)];
}

function int(rand: () => number, min: number, max: number): number {
  return min + floor(rand() * (max - min + 1));
}

function sentence(rand: () => number): string {
  const n = int(rand, 4, 18);
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.012) words.push(pick(rand, NON_ASCII));
    else if (r < 0.02) words.push(pick(rand, SPECIAL));
    else words.push(pick(rand, WORDS));
  }
  const first = words[0];
  words[0] = first.charAt(0).toUpperCase() + first.slice(1);
  return words.join(' ') + pick(rand, ['.', '.', '.', '.', '?', '!']);
}

function paragraph(rand: () => number, sentences: number): string {
  const parts: string[] = [];
  for (let i = 0; i < sentences; i++) parts.push(sentence(rand));
  return parts.join(' ');
}

function userText(rand: () => number, scale: number): string {
  const n = max(1, round(int(rand, 1, 4) * scale));
  return paragraph(rand, n);
}

function assistantText(rand: () => number, scale: number): string {
  const long = rand() < 0.05;
  const total = max(1, round((long ? int(rand, 25, 50) : int(rand, 2, 12)) * scale));
  const paragraphs: string[] = [];
  let left = total;
  while (left > 0) {
    const n = min(left, int(rand, 1, 5));
    left -= n;
    if (rand() < 0.15) {
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(`${i + 1}. ${sentence(rand)}`);
      paragraphs.push(items.join('\n'));
    } else {
      paragraphs.push(paragraph(rand, n));
    }
  }
  return paragraphs.join('\n\n');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Row `index` of `split`. */
export function generateRow(split: SplitName, index: number, cfg: GeneratorConfig): GeneratedRow {
  const rand = rowRandom(cfg.seed, split, index);
  const r = rand();
  const pairs = r < 0.3 ? 1 : r < 0.6 ? 2 : r < 0.85 ? 3 : 4;
  const messages: GeneratedMessage[] = [];
  for (let p = 0; p < pairs; p++) {
    messages.push({ content: userText(rand, cfg.contentScale), role: 'user' });
    messages.push({ content: assistantText(rand, cfg.contentScale), role: 'assistant' });
  }
  const prompt = messages[0].content;
  const row: GeneratedRow = { prompt, prompt_id: sha256Hex(prompt), messages };
  switch (invalidReasonAt(index, cfg.invalidEvery)) {
    case 'messages_empty':
      row.messages = [];
      break;
    case 'no_assistant_turn':
      row.messages = [messages[0]];
      break;
    case 'empty_content':
      messages[1] = { content: '', role: 'assistant' };
      break;
    case 'bad_role':
      messages[1] = { content: messages[1].content, role: 'gpt' };
      break;
    case 'messages_missing':
      row.messages = null;
      break;
    case undefined:
      break;
  }
  return row;
}
