// Validation of chat-completion rows (the ultrachat_200k schema the chat_completion pipeline reads:
// `messages` is the column it trains on, `prompt` and `prompt_id` travel along unchanged).
//
// A row that fails is skipped and counted; a split with too many failures is rejected before any
// money is spent (docs/design.md, invariant 4).

import { createHash } from 'node:crypto';

/**
 * Text as a parquet reader may leave it for staging: a string, or its UTF-8 bytes (parquet.ts,
 * textAsBytes). Bytes mean exactly the string `new TextDecoder().decode(bytes)` (what the reader
 * would have made of them).
 */
export type Text = string | Uint8Array;

/** One chat turn, keys in the order datasets' `to_json` writes them (struct field order). */
export interface ChatMessage<T extends Text = string> {
  content: T;
  role: string;
}

/** A validated row, keys in the dataset's column order: prompt, prompt_id, messages. */
export interface ChatRow<T extends Text = string> {
  prompt: T;
  /** Text as it came too (JSONL: a string; parquet with textAsBytes: its bytes); a hash is a string. */
  prompt_id: T;
  messages: ChatMessage<T>[];
}

const utf8Decoder = new TextDecoder();

/** The string a Text stands for. */
export function textString(text: Text): string {
  return typeof text === 'string' ? text : utf8Decoder.decode(text);
}

function isText(value: unknown): value is Text {
  return typeof value === 'string' || value instanceof Uint8Array;
}

/** textString(text).trim() === '', without decoding bytes unless they hold non-ASCII. */
function isBlank(text: Text): boolean {
  if (typeof text === 'string') return text.trim().length === 0;
  for (let i = 0; i < text.length; i++) {
    const b = text[i];
    if (b === 0x20 || (b >= 0x09 && b <= 0x0d)) continue; // what trim() removes in ASCII
    if (b < 0x80) return false;
    return textString(text).trim().length === 0; // non-ASCII: trim's Unicode white space
  }
  return true;
}

export const CHAT_ROLES = ['system', 'user', 'assistant'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

/** Each role as its bytes: a role is one of three ASCII words, so bytes are that role exactly when they are equal. */
const ROLE_BYTES = CHAT_ROLES.map((role) => Buffer.from(role, 'latin1'));

/** The role a Text names, or undefined when it names none (compared as bytes, without decoding). */
function roleOf(role: Text): ChatRole | undefined {
  if (typeof role === 'string') return isRole(role) ? role : undefined;
  for (let r = 0; r < CHAT_ROLES.length; r++) {
    if (role.length === ROLE_BYTES[r].length && Buffer.compare(role, ROLE_BYTES[r]) === 0) return CHAT_ROLES[r];
  }
  return undefined;
}

/** Why a row was rejected. Stable codes (they appear in run records and test expectations). */
export const INVALID_REASONS = {
  invalid_json: 'the line is not valid JSON',
  not_utf8: 'the line is not UTF-8 text (re-save the file as UTF-8)',
  row_too_large: 'the line is longer than 1 MiB, more than a chat row for fine-tuning can hold',
  not_an_object: 'the row is not an object',
  prompt_invalid: '`prompt` is present but not a string',
  prompt_id_invalid: '`prompt_id` is present but not a string',
  messages_missing: '`messages` is missing or not a list',
  messages_empty: '`messages` is an empty list',
  message_malformed: 'a message is not an object with string `role` and `content`',
  bad_role: 'a message has a role other than system, user or assistant',
  empty_content: 'a message has empty content',
  no_user_turn: 'the conversation has no user turn',
  no_assistant_turn: 'the conversation has no assistant turn',
} as const;

export type InvalidReason = keyof typeof INVALID_REASONS;

export function describeInvalidReason(reason: InvalidReason): string {
  return INVALID_REASONS[reason];
}

/**
 * Marks a JSONL line that could not be parsed. Readers yield it in place of a row so that a
 * corrupt line counts as one invalid row instead of aborting the whole split.
 */
export class UnparsableLine {
  constructor(
    readonly lineNumber: number,
    readonly error: string,
    readonly reason: 'invalid_json' | 'not_utf8' | 'row_too_large' = 'invalid_json',
  ) {}
}

export type ValidationResult<T extends Text = string> =
  { ok: true; row: ChatRow<T> } | { ok: false; reason: InvalidReason };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRole(value: string): value is ChatRole {
  return (CHAT_ROLES as readonly string[]).includes(value);
}

/**
 * Check one row and return a clean copy of it.
 *
 * Rules, checked in this order (the first failure is the reason):
 * - the row is an object (a JSONL line that did not parse is `invalid_json`);
 * - `messages` is a non-empty list;
 * - every message is an object whose `role` and `content` are strings;
 * - every role is one of system, user, assistant;
 * - every content is non-empty once surrounding whitespace is ignored;
 * - the conversation has at least one user turn and one assistant turn;
 * - `prompt` and `prompt_id`, when present, are strings. They are carried along, not trained on;
 *   when absent (a messages-only source) prompt becomes the first user message and prompt_id its
 *   sha256 in hex, which is how ultrachat_200k's rows relate them.
 *
 * The returned row holds only prompt, prompt_id and messages (each message only content and role),
 * in that key order, so extra fields never reach the staged JSONL.
 */
export function validateChatRow(row: unknown): ValidationResult {
  return validateChatText(row, false) as ValidationResult;
}

/**
 * validateChatRow for rows whose text may be UTF-8 bytes (parquet.ts, textAsBytes): the same rules,
 * reasons and order, as if each byte value were the string it decodes to. The clean row keeps the
 * text as it came (the role becomes a string).
 */
export function validateChatTextRow(row: unknown): ValidationResult<Text> {
  return validateChatText(row, true);
}

function validateChatText(row: unknown, bytesAllowed: boolean): ValidationResult<Text> {
  if (row instanceof UnparsableLine) return { ok: false, reason: row.reason };
  if (!isRecord(row)) return { ok: false, reason: 'not_an_object' };
  const textOk = (value: unknown): value is Text => (bytesAllowed ? isText(value) : typeof value === 'string');

  const messages = row['messages'];
  if (!Array.isArray(messages)) return { ok: false, reason: 'messages_missing' };
  if (messages.length === 0) return { ok: false, reason: 'messages_empty' };

  const clean: ChatMessage<Text>[] = [];
  let users = 0;
  let assistants = 0;
  for (const message of messages as unknown[]) {
    if (!isRecord(message)) return { ok: false, reason: 'message_malformed' };
    const rawRole = message['role'];
    const content = message['content'];
    if (!textOk(rawRole) || !textOk(content)) {
      return { ok: false, reason: 'message_malformed' };
    }
    const role = roleOf(rawRole);
    if (role === undefined) return { ok: false, reason: 'bad_role' };
    if (isBlank(content)) return { ok: false, reason: 'empty_content' };
    if (role === 'user') users++;
    if (role === 'assistant') assistants++;
    clean.push({ content, role });
  }
  if (users === 0) return { ok: false, reason: 'no_user_turn' };
  if (assistants === 0) return { ok: false, reason: 'no_assistant_turn' };

  const prompt = row['prompt'] ?? undefined;
  if (prompt !== undefined && !textOk(prompt)) return { ok: false, reason: 'prompt_invalid' };
  const promptId = row['prompt_id'] ?? undefined;
  if (promptId !== undefined && !textOk(promptId)) return { ok: false, reason: 'prompt_id_invalid' };
  const promptText = prompt ?? (clean.find((m) => m.role === 'user') as ChatMessage<Text>).content;
  const id =
    promptId !== undefined ? promptId : createHash('sha256').update(textString(promptText), 'utf8').digest('hex');

  return { ok: true, row: { prompt: promptText, prompt_id: id, messages: clean } };
}

export interface InvalidExample {
  /** Row index within the split (0 = first row of shard 00000). */
  row: number;
  reason: InvalidReason;
}

export interface ValidationSummary {
  total: number;
  valid: number;
  invalid: number;
  byReason: Partial<Record<InvalidReason, number>>;
  examples: InvalidExample[];
}

/**
 * Counts rows and invalid rows by reason, keeping the first few examples. Plain data in and out,
 * so a summary can be put in an activity result or heartbeat (it holds no row content).
 */
export class ValidationTally {
  static readonly MAX_EXAMPLES = 3;

  private total = 0;
  private invalid = 0;
  private readonly byReason: Partial<Record<InvalidReason, number>> = {};
  private readonly examples: InvalidExample[] = [];

  constructor(
    /** Label used in error messages, e.g. `HuggingFaceH4/ultrachat_200k train_sft[0%:5%]`. */
    readonly label = 'dataset',
  ) {}

  /** Rebuild a tally from a summary (e.g. the last heartbeat before a worker restart). */
  static fromSummary(summary: ValidationSummary, label?: string): ValidationTally {
    const tally = new ValidationTally(label);
    tally.total = summary.total;
    tally.invalid = summary.invalid;
    Object.assign(tally.byReason, summary.byReason);
    tally.examples.push(...summary.examples.slice(0, ValidationTally.MAX_EXAMPLES));
    return tally;
  }

  /** Record a valid row. */
  ok(): void {
    this.total++;
  }

  /** Record an invalid row at index `row` of the split. */
  reject(row: number, reason: InvalidReason): void {
    this.total++;
    this.invalid++;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
    if (this.examples.length < ValidationTally.MAX_EXAMPLES) this.examples.push({ row, reason });
  }

  /** Record the outcome of validateChatRow for the row at index `row`. */
  record(row: number, result: ValidationResult<Text>): void {
    if (result.ok) this.ok();
    else this.reject(row, result.reason);
  }

  get totalRows(): number {
    return this.total;
  }

  get invalidRows(): number {
    return this.invalid;
  }

  get validRows(): number {
    return this.total - this.invalid;
  }

  /** Invalid rows / all rows seen (0 when no rows were seen). */
  fraction(): number {
    return this.total === 0 ? 0 : this.invalid / this.total;
  }

  summary(): ValidationSummary {
    return {
      total: this.total,
      valid: this.total - this.invalid,
      invalid: this.invalid,
      byReason: { ...this.byReason },
      examples: this.examples.map((e) => ({ ...e })),
    };
  }

  /**
   * Throw when more than `maxInvalidFraction` (0..1; 0.01 = 1%) of the rows are invalid.
   * Exactly at the threshold passes. With `outOf` (the rows the whole slice will have), the
   * fraction is taken over those: it can only grow as more rows are read, so a slice that is
   * already over the threshold fails early, before the rest of it is read and uploaded.
   */
  check(maxInvalidFraction: number, outOf?: number): void {
    if (!(maxInvalidFraction >= 0 && maxInvalidFraction <= 1)) {
      throw new RangeError(`maxInvalidFraction must be between 0 and 1, got ${maxInvalidFraction}`);
    }
    const total = outOf ?? this.total;
    const fraction = total === 0 ? 0 : this.invalid / total;
    if (fraction <= maxInvalidFraction) return;
    const pct = (x: number): string => `${Number((x * 100).toFixed(3))}%`;
    const reasons = (Object.keys(this.byReason) as InvalidReason[])
      .sort((a, b) => (this.byReason[b] ?? 0) - (this.byReason[a] ?? 0))
      .map((r) => `${this.byReason[r]} × ${r} (${INVALID_REASONS[r]})`)
      .join('; ');
    const examples = this.examples.map((e) => `row ${e.row}: ${e.reason}`).join(', ');
    const count =
      outOf === undefined || outOf === this.total
        ? `${this.invalid} of ${this.total} rows are invalid (${pct(fraction)})`
        : `${this.invalid} of the first ${this.total} rows are invalid, already ${pct(fraction)} of the ${outOf} rows of the slice`;
    throw new TooManyInvalidRows(
      `${this.label}: ${count}, more than the allowed ${pct(maxInvalidFraction)}. Reasons: ${reasons}. First examples: ${examples}. ` +
        'Fix the data or raise the invalid-row threshold.',
      this.summary(),
    );
  }
}

/** A split with more invalid rows than allowed; carries the tally for the run record. */
export class TooManyInvalidRows extends Error {
  override readonly name = 'TooManyInvalidRows';
  constructor(
    message: string,
    readonly summary: ValidationSummary,
  ) {
    super(message);
  }
}
