// JSON Lines output byte-compatible with what the notebook's download script writes.
//
// The script calls `Dataset.to_json(path)` with the library defaults. `datasets` writes batches
// through pandas `DataFrame.to_json(orient="records", lines=True)`, whose encoder (pandas' vendored
// ujson) produces, for our rows:
//   - no whitespace between tokens: {"prompt":"…","prompt_id":"…","messages":[{"content":"…","role":"user"}]}
//   - keys in column order (prompt, prompt_id, messages) and, inside a message, in struct field
//     order (content, role);
//   - force_ascii=True: every non-ASCII UTF-16 code unit as \uXXXX with lowercase hex, so a
//     character outside the BMP becomes its surrogate pair (😀 → \ud83d\ude00);
//   - "/" escaped as "\/" (ujson's escape_forward_slashes default);
//   - `"` → \", `\` → \\, and \b \f \n \r \t short escapes; other control characters (U+0000–U+001F)
//     as \u00XX; DEL (U+007F) and the HTML characters & < > are written as is;
//   - one record per line, each line (the last one too) terminated by "\n".
// (Facts: huggingface/datasets' JsonDatasetWriter in datasets/io/json.py; pandas-dev/pandas#45959
// and #61442; pandas' ujson encoder escape table.)
//
// JSON.stringify already produces exactly ujson's escapes for quotes, backslashes and control
// characters (and \uXXXX for lone surrogates), so only "/" and non-ASCII need post-processing.

import type { ChatRow } from './validate';

const PANDAS_EXTRA_ESCAPES = /[/\u0080-\uffff]/g;

function escapeExtra(ch: string): string {
  if (ch === '/') return '\\/';
  return '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0');
}

/** A JSON string literal (with quotes) escaped like pandas `to_json` with default settings. */
export function pandasJsonString(value: string): string {
  return JSON.stringify(value).replace(PANDAS_EXTRA_ESCAPES, escapeExtra);
}

/** One record as pandas writes it, without the trailing newline. */
export function toJsonLine(row: ChatRow): string {
  let out = '{"prompt":' + pandasJsonString(row.prompt) + ',"prompt_id":' + pandasJsonString(row.prompt_id);
  out += ',"messages":[';
  for (let i = 0; i < row.messages.length; i++) {
    const m = row.messages[i];
    if (i > 0) out += ',';
    out += '{"content":' + pandasJsonString(m.content) + ',"role":' + pandasJsonString(m.role) + '}';
  }
  return out + ']}';
}

/** Several records as a JSONL chunk; every line, the last one too, ends with "\n". */
export function toJsonLines(rows: Iterable<ChatRow>): string {
  let out = '';
  for (const row of rows) out += toJsonLine(row) + '\n';
  return out;
}

/**
 * A growable byte buffer that JSON lines are written into (staging fills one per block). `reserve`
 * makes room for at least `n` more bytes; growing replaces `buf`.
 */
export interface ByteSink {
  buf: Buffer;
  length: number;
  reserve(n: number): void;
}

const HEX_DIGITS = '0123456789abcdef';
const BACKSLASH = 0x5c;
/** What writeJsonString escapes: the quote, backslash, slash, control characters and all non-ASCII. */
const NEEDS_ESCAPE = /["\\/\u0000-\u001f\u0080-\uffff]/g;

/**
 * Writes `value` as pandasJsonString does, straight into the sink: no JSON string is built. Runs of
 * characters that need no escape (most of any text) are copied by Buffer#write (latin1), one native
 * call per run (they are ASCII, so latin1 is their UTF-8); only the characters between runs are
 * escaped here, one code unit at a time.
 */
function writeJsonString(value: string, sink: ByteSink): void {
  // Room for the text as it is; escapes may need more, found (rarely) on the way.
  sink.reserve(value.length + 2);
  let buf = sink.buf;
  let o = sink.length;
  buf[o++] = 0x22;
  let from = 0;
  NEEDS_ESCAPE.lastIndex = 0;
  for (let m = NEEDS_ESCAPE.exec(value); m !== null; m = NEEDS_ESCAPE.exec(value)) {
    const at = m.index;
    if (o + (at - from) + 7 > buf.length) {
      // the rest at worst: every code unit as \uXXXX, and the closing quote
      sink.length = o;
      sink.reserve((value.length - from) * 6 + 1);
      buf = sink.buf;
    }
    if (at > from) o += buf.write(value.substring(from, at), o, 'latin1');
    const c = value.charCodeAt(at);
    buf[o++] = BACKSLASH;
    if (c === 0x22 || c === BACKSLASH || c === 0x2f) buf[o++] = c;
    else if (c === 0x0a)
      buf[o++] = 0x6e; // n
    else if (c === 0x09)
      buf[o++] = 0x74; // t
    else if (c === 0x0d)
      buf[o++] = 0x72; // r
    else if (c === 0x08)
      buf[o++] = 0x62; // b
    else if (c === 0x0c)
      buf[o++] = 0x66; // f
    else {
      buf[o++] = 0x75; // u, then four lowercase hex digits (a code unit: surrogates stay pairs)
      buf[o++] = HEX_DIGITS.charCodeAt(c >> 12);
      buf[o++] = HEX_DIGITS.charCodeAt((c >> 8) & 15);
      buf[o++] = HEX_DIGITS.charCodeAt((c >> 4) & 15);
      buf[o++] = HEX_DIGITS.charCodeAt(c & 15);
    }
    from = at + 1;
  }
  if (o + (value.length - from) + 1 > buf.length) {
    sink.length = o;
    sink.reserve(value.length - from + 1);
    buf = sink.buf;
  }
  if (from < value.length) o += buf.write(from === 0 ? value : value.substring(from), o, 'latin1');
  buf[o++] = 0x22;
  sink.length = o;
}

function writeAscii(text: string, sink: ByteSink): void {
  sink.reserve(text.length);
  sink.length += sink.buf.write(text, sink.length, 'latin1');
}

/**
 * One record and its "\n", byte for byte what toJsonLine(row) + "\n" is, written into the sink.
 * Staging uses this: a line never exists as a JS string, so memory holds only the block.
 */
export function writeJsonLine(row: ChatRow, sink: ByteSink): void {
  writeAscii('{"prompt":', sink);
  writeJsonString(row.prompt, sink);
  writeAscii(',"prompt_id":', sink);
  writeJsonString(row.prompt_id, sink);
  writeAscii(',"messages":[', sink);
  for (let i = 0; i < row.messages.length; i++) {
    const m = row.messages[i];
    writeAscii(i > 0 ? ',{"content":' : '{"content":', sink);
    writeJsonString(m.content, sink);
    writeAscii(',"role":', sink);
    writeJsonString(m.role, sink);
    writeAscii('}', sink);
  }
  writeAscii(']}\n', sink);
}
