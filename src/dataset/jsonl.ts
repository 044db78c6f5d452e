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

import { CHAT_ROLES, textString, type ChatRow, type Text } from './validate';

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

/** What writeJsonBytes does with each byte: 0 copy, 1 escape (ASCII), 2 start of a multi-byte character. */
const BYTE_CLASS = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) BYTE_CLASS[b] = 1;
BYTE_CLASS[0x22] = 1;
BYTE_CLASS[0x2f] = 1;
BYTE_CLASS[BACKSLASH] = 1;
for (let b = 0x80; b < 0x100; b++) BYTE_CLASS[b] = 2;
/** The short escapes ujson writes (b, t, n, f, r), by control character; 0 = none. */
const SHORT_ESCAPE = new Uint8Array(0x20);
SHORT_ESCAPE[0x08] = 0x62;
SHORT_ESCAPE[0x09] = 0x74;
SHORT_ESCAPE[0x0a] = 0x6e;
SHORT_ESCAPE[0x0c] = 0x66;
SHORT_ESCAPE[0x0d] = 0x72;

function writeUnitEscape(buf: Buffer, o: number, c: number): number {
  buf[o] = BACKSLASH;
  buf[o + 1] = 0x75; // u, then four lowercase hex digits
  buf[o + 2] = HEX_DIGITS.charCodeAt(c >> 12);
  buf[o + 3] = HEX_DIGITS.charCodeAt((c >> 8) & 15);
  buf[o + 4] = HEX_DIGITS.charCodeAt((c >> 4) & 15);
  buf[o + 5] = HEX_DIGITS.charCodeAt(c & 15);
  return o + 6;
}

/**
 * Whether any of the four bytes of `x` (little-endian) needs an escape: the 0x80 bit of each byte
 * that is non-ASCII, a control character (< 0x20), a quote, a backslash or a slash (SWAR: a byte's
 * subtraction that borrows sets its high bit; the test for "any byte" is exact). Zero when all four
 * are copied as they are.
 */
function escapeBits(x: number): number {
  const quote = x ^ 0x22222222;
  const backslash = x ^ 0x5c5c5c5c;
  const slash = x ^ 0x2f2f2f2f;
  return (
    (x |
      ((x - 0x20202020) & ~x) |
      ((quote - 0x01010101) & ~quote) |
      ((backslash - 0x01010101) & ~backslash) |
      ((slash - 0x01010101) & ~slash)) &
    0x80808080
  );
}

/**
 * Writes UTF-8 `bytes` as writeJsonString writes the string they decode to (TextDecoder), straight
 * from the bytes: no string is made. Returns false, having written nothing, for what this does not
 * translate itself (bytes that are not well-formed UTF-8, or a leading byte order mark, which
 * TextDecoder drops); the caller then writes the decoded string.
 *
 * Text that needs no escape is checked and copied four bytes at a time (escapeBits, through
 * DataViews of the input and of the block); a word with a byte to escape is taken byte by byte up to
 * that byte. Against finding each run first and copying it through a subarray: 1.2-1.6 against 1.7-2.2
 * ms per MB of the generated dataset's text, one process (bench/README.md section 2).
 */
function writeJsonBytes(bytes: Uint8Array, sink: ByteSink): boolean {
  const n = bytes.length;
  if (n >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return false;
  const start = sink.length;
  // Room for the bytes as they are and the quotes; escapes check for more on the way. Invariant
  // at the top of the loop: buf has room for the rest of the bytes copied as they are, and a quote.
  sink.reserve(n + 2);
  let buf = sink.buf;
  let out = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const words = new DataView(bytes.buffer, bytes.byteOffset, n);
  let o = start;
  buf[o++] = 0x22;
  let i = 0;
  while (i < n) {
    while (i + 4 <= n) {
      const x = words.getInt32(i, true);
      if (escapeBits(x) !== 0) break;
      out.setInt32(o, x, true);
      o += 4;
      i += 4;
    }
    if (i >= n) break;
    const b = bytes[i];
    const cls = BYTE_CLASS[b];
    if (cls === 0) {
      buf[o++] = b;
      i++;
      continue;
    }
    if (o + (n - i) + 13 > buf.length) {
      // an escape writes at most 12 bytes for the 1 to 4 it reads
      sink.length = o;
      sink.reserve(n - i + 13);
      buf = sink.buf;
      out = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    if (cls === 1) {
      buf[o++] = BACKSLASH;
      if (b >= 0x20)
        buf[o++] = b; // " / \
      else if (SHORT_ESCAPE[b] !== 0) buf[o++] = SHORT_ESCAPE[b];
      else o = writeUnitEscape(buf, o - 1, b);
      i++;
      continue;
    }
    // A multi-byte character: well-formed UTF-8 only (RFC 3629 table), else the caller decodes.
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) {
      const b1 = i + 1 < n ? bytes[i + 1] : 0;
      if ((b1 & 0xc0) !== 0x80) return rollback(sink, start);
      cp = ((b & 0x1f) << 6) | (b1 & 0x3f);
      i += 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      const b1 = i + 1 < n ? bytes[i + 1] : 0;
      const b2 = i + 2 < n ? bytes[i + 2] : 0;
      const lo = b === 0xe0 ? 0xa0 : 0x80;
      const hi = b === 0xed ? 0x9f : 0xbf;
      if (b1 < lo || b1 > hi || (b2 & 0xc0) !== 0x80) return rollback(sink, start);
      cp = ((b & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
      i += 3;
    } else if (b >= 0xf0 && b <= 0xf4) {
      const b1 = i + 1 < n ? bytes[i + 1] : 0;
      const b2 = i + 2 < n ? bytes[i + 2] : 0;
      const b3 = i + 3 < n ? bytes[i + 3] : 0;
      const lo = b === 0xf0 ? 0x90 : 0x80;
      const hi = b === 0xf4 ? 0x8f : 0xbf;
      if (b1 < lo || b1 > hi || (b2 & 0xc0) !== 0x80 || (b3 & 0xc0) !== 0x80) return rollback(sink, start);
      cp = ((b & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
      i += 4;
    } else {
      return rollback(sink, start);
    }
    if (cp < 0x10000) {
      o = writeUnitEscape(buf, o, cp);
    } else {
      const v = cp - 0x10000; // a surrogate pair, as the UTF-16 string holds it
      o = writeUnitEscape(buf, o, 0xd800 | (v >> 10));
      o = writeUnitEscape(buf, o, 0xdc00 | (v & 0x3ff));
    }
  }
  buf[o++] = 0x22;
  sink.length = o;
  return true;
}

function rollback(sink: ByteSink, start: number): false {
  sink.length = start;
  return false;
}

/** A JSON string value from a string, or from UTF-8 bytes (as the string they decode to). */
function writeJsonText(value: Text, sink: ByteSink): void {
  if (typeof value === 'string') writeJsonString(value, sink);
  else if (!writeJsonBytes(value, sink)) writeJsonString(textString(value), sink);
}

/** ASCII as its bytes, for the parts of a line that never change. */
const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const PROMPT_KEY = ascii('{"prompt":');
const PROMPT_ID_KEY = ascii(',"prompt_id":');
const MESSAGES_KEY = ascii(',"messages":[');
const FIRST_CONTENT_KEY = ascii('{"content":');
const CONTENT_KEY = ascii(',{"content":');
const LINE_END = ascii(']}\n');
/** The end of a message for each role a valid row has: its role and the closing brace. */
const ROLE_ENDS = new Map(CHAT_ROLES.map((role) => [role as string, ascii(`,"role":"${role}"}`)]));
const ROLE_KEY = ascii(',"role":');
const MESSAGE_END = ascii('}');

/** A few constant bytes, copied one by one (they are short: a native copy costs more). */
function writeConstant(bytes: Uint8Array, sink: ByteSink): void {
  sink.reserve(bytes.length);
  const buf = sink.buf;
  let o = sink.length;
  for (let i = 0; i < bytes.length; i++) buf[o++] = bytes[i];
  sink.length = o;
}

/**
 * One record and its "\n", byte for byte what toJsonLine(row) + "\n" is, written into the sink.
 * Staging uses this: a line never exists as a JS string, so memory holds only the block. Text may
 * be UTF-8 bytes (parquet read with textAsBytes): written from the bytes, with the same result.
 */
export function writeJsonLine(row: ChatRow<Text>, sink: ByteSink): void {
  writeConstant(PROMPT_KEY, sink);
  writeJsonText(row.prompt, sink);
  writeConstant(PROMPT_ID_KEY, sink);
  writeJsonText(row.prompt_id, sink);
  writeConstant(MESSAGES_KEY, sink);
  for (let i = 0; i < row.messages.length; i++) {
    const m = row.messages[i];
    writeConstant(i > 0 ? CONTENT_KEY : FIRST_CONTENT_KEY, sink);
    writeJsonText(m.content, sink);
    const end = ROLE_ENDS.get(m.role);
    if (end) {
      writeConstant(end, sink);
    } else {
      writeConstant(ROLE_KEY, sink);
      writeJsonString(m.role, sink);
      writeConstant(MESSAGE_END, sink);
    }
  }
  writeConstant(LINE_END, sink);
}
