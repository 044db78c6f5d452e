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
// (Facts: azureml-assets-notes.md §2; pandas-dev/pandas#45959 and #61442; pandas'
// ujson encoder escape table.)
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
