// JSONL written exactly like pandas to_json(orient="records", lines=True) with default settings.
import {
  pandasJsonString,
  textString,
  toJsonLine,
  toJsonLines,
  validateChatRow,
  validateChatTextRow,
  writeJsonLine,
  type ChatRow,
  type Text,
} from '../../src/dataset';

describe('pandas-compatible JSONL', () => {
  test('escapes: non-ASCII as lowercase \\uXXXX (surrogate pairs beyond the BMP), "/" as "\\/"', () => {
    expect(pandasJsonString('café')).toBe('"caf\\u00e9"');
    expect(pandasJsonString('日本語')).toBe('"\\u65e5\\u672c\\u8a9e"');
    expect(pandasJsonString('😀')).toBe('"\\ud83d\\ude00"');
    expect(pandasJsonString('and/or https://x.org/a')).toBe('"and\\/or https:\\/\\/x.org\\/a"');
    expect(pandasJsonString('“q”—…')).toBe('"\\u201cq\\u201d\\u2014\\u2026"');
    expect(pandasJsonString('\u00a0\u00ff\u0100\uffff')).toBe('"\\u00a0\\u00ff\\u0100\\uffff"');
  });

  test('escapes: quotes, backslash, short control escapes, other controls as \\u00XX; DEL and & < > as is', () => {
    expect(pandasJsonString('say "hi" \\ ok')).toBe('"say \\"hi\\" \\\\ ok"');
    expect(pandasJsonString('a\nb\tc\rd\be\ff')).toBe('"a\\nb\\tc\\rd\\be\\ff"');
    expect(pandasJsonString('\u0000\u0001\u001f\u000b')).toBe('"\\u0000\\u0001\\u001f\\u000b"');
    expect(pandasJsonString('\u007f<b>&amp;</b>')).toBe('"\u007f<b>&amp;<\\/b>"');
  });

  test('a row: no spaces, keys prompt, prompt_id, messages; message keys content, role', () => {
    const row: ChatRow = {
      prompt: 'Tell me about Zürich/Genève',
      prompt_id: '0f'.repeat(32),
      messages: [
        { content: 'Tell me about Zürich/Genève', role: 'user' },
        { content: 'Zürich is a city. 🚀\n\n1. "Lake" view', role: 'assistant' },
      ],
    };
    expect(toJsonLine(row)).toBe(
      '{"prompt":"Tell me about Z\\u00fcrich\\/Gen\\u00e8ve","prompt_id":"' +
        '0f'.repeat(32) +
        '",' +
        '"messages":[{"content":"Tell me about Z\\u00fcrich\\/Gen\\u00e8ve","role":"user"},' +
        '{"content":"Z\\u00fcrich is a city. \\ud83d\\ude80\\n\\n1. \\"Lake\\" view","role":"assistant"}]}',
    );
    // the output is plain ASCII JSON that parses back to the same row
    expect(/^[\x20-\x7e]*$/.test(toJsonLine(row))).toBe(true);
    expect(JSON.parse(toJsonLine(row))).toEqual(row);
  });

  test('a validated row with extra fields serialises only the known ones, each line ends with \\n', () => {
    const r = validateChatRow({
      extra: 'dropped',
      prompt: 'p',
      prompt_id: 'i',
      messages: [
        { role: 'user', content: 'u', x: 1 },
        { role: 'assistant', content: 'a' },
      ],
    });
    if (!r.ok) throw new Error('expected a valid row');
    const text = toJsonLines([r.row, r.row]);
    expect(text).toBe(
      '{"prompt":"p","prompt_id":"i","messages":[{"content":"u","role":"user"},{"content":"a","role":"assistant"}]}\n'.repeat(
        2,
      ),
    );
    expect(toJsonLines([])).toBe('');
  });
});

describe('writeJsonLine', () => {
  function sinkOf(size: number) {
    return {
      buf: Buffer.alloc(size),
      length: 0,
      reserve(n: number) {
        if (this.length + n <= this.buf.length) return;
        const bigger = Buffer.alloc((this.length + n) * 2);
        this.buf.copy(bigger, 0, 0, this.length);
        this.buf = bigger;
      },
    };
  }

  test('writes exactly toJsonLine(row) + "\\n", for every kind of character, growing the buffer as needed', () => {
    // every ASCII character, controls, Latin-1, BMP, astral pairs, lone surrogates, and long runs of escapes
    const all = Array.from({ length: 0x180 }, (_, i) => String.fromCharCode(i)).join('');
    const samples = [
      all,
      '😀/"\\\n',
      '\ud800 lone \udfff',
      'é'.repeat(5000),
      '/'.repeat(3000),
      'plain text',
      '\u2028\u2029\ufeff',
    ];
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let n = 0; n < 50; n++) {
      samples.push(
        Array.from({ length: Math.floor(rand() * 300) }, () => String.fromCharCode(Math.floor(rand() * 0x10000))).join(
          '',
        ),
      );
    }
    for (const [i, text] of samples.entries()) {
      const row: ChatRow = {
        prompt: text,
        prompt_id: `id${i}/x`,
        messages: [
          { content: text, role: 'user' },
          { content: text.slice(3), role: 'assistant' },
        ],
      };
      for (const size of [1, 64, 100_000]) {
        const sink = sinkOf(size);
        sink.length = size > 10 ? 5 : 0; // after earlier lines
        writeJsonLine(row, sink);
        expect(sink.buf.subarray(size > 10 ? 5 : 0, sink.length).toString('latin1')).toBe(toJsonLine(row) + '\n');
      }
    }
  });
});

describe('writeJsonLine with text as UTF-8 bytes (parquet read with textAsBytes)', () => {
  function sinkOf(size: number) {
    return {
      buf: Buffer.alloc(size),
      length: 0,
      reserve(n: number) {
        if (this.length + n <= this.buf.length) return;
        const bigger = Buffer.alloc((this.length + n) * 2);
        this.buf.copy(bigger, 0, 0, this.length);
        this.buf = bigger;
      },
    };
  }
  const decoder = new TextDecoder();

  test('writes what the decoded string writes: well-formed, malformed, BOM, every byte value', () => {
    const all = Array.from({ length: 0x180 }, (_, i) => String.fromCharCode(i)).join('');
    const samples: Uint8Array[] = [
      Buffer.from(all, 'utf8'),
      Buffer.from('😀/"\\\n\t\b\f\r\u0001\u007f', 'utf8'),
      Buffer.from('\ufeffafter a BOM', 'utf8'),
      Buffer.from('a\ufeffinside', 'utf8'),
      Buffer.from('é'.repeat(5000), 'utf8'),
      Buffer.from('/'.repeat(3000), 'utf8'),
      Buffer.from('\u2028\u2029\u{10ffff}\u{10000}', 'utf8'),
      Uint8Array.from(Array.from({ length: 256 }, (_, i) => i)), // every byte: malformed
      Uint8Array.from([0xc0, 0x80]), // overlong
      Uint8Array.from([0xed, 0xa0, 0x80]), // a surrogate in UTF-8
      Uint8Array.from([0xf4, 0x90, 0x80, 0x80]), // beyond U+10FFFF
      Uint8Array.from([0x61, 0xe2, 0x82]), // truncated
      new Uint8Array(0),
    ];
    let seed = 11;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let n = 0; n < 60; n++) {
      const len = Math.floor(rand() * 300);
      if (n % 2 === 0) {
        samples.push(Uint8Array.from({ length: len }, () => Math.floor(rand() * 256)));
      } else {
        const text = Array.from({ length: len }, () =>
          String.fromCodePoint(Math.floor(rand() * (rand() < 0.5 ? 0x80 : 0x10ffff))),
        ).join('');
        samples.push(Buffer.from(text, 'utf8'));
      }
    }
    for (const [i, bytes] of samples.entries()) {
      const text = decoder.decode(bytes);
      const asString: ChatRow = {
        prompt: text,
        prompt_id: `id${i}`,
        messages: [{ content: text, role: 'user' }],
      };
      const asBytes: ChatRow<Text> = {
        prompt: bytes,
        prompt_id: `id${i}`,
        messages: [{ content: bytes, role: 'user' }],
      };
      for (const size of [1, 64, 100_000]) {
        const sink = sinkOf(size);
        writeJsonLine(asBytes, sink);
        expect(sink.buf.subarray(0, sink.length).toString('latin1')).toBe(toJsonLine(asString) + '\n');
      }
    }
  });

  test('text taken four bytes at a time: each escape and its neighbours at every position, at every alignment', () => {
    // bytes next to the ones that need an escape (0x1f/0x20, 0x21-0x23, 0x2e-0x30, 0x5b-0x5d, 0x7f/0x80)
    // and the escapes themselves, alone in ASCII text, at each position of values of 0 to 13 bytes
    const specials = [
      '"',
      '\\',
      '/',
      '\n',
      '\u001f',
      '\u0000',
      ' ',
      '!',
      '#',
      '.',
      '0',
      '[',
      ']',
      '\u007f',
      'é',
      '€',
      '😀',
    ];
    const backing = new Uint8Array(64 + 8);
    for (const special of specials) {
      for (let len = 0; len <= 13; len++) {
        for (let at = 0; at <= len; at++) {
          const text =
            'abcdefghijklm'.slice(0, at) + (at < len ? special : '') + 'nopqrstuvwxyz'.slice(0, len - at - 1);
          const encoded = Buffer.from(text, 'utf8');
          for (let offset = 0; offset < 4; offset++) {
            const bytes = new Uint8Array(backing.buffer, offset, encoded.length);
            bytes.set(encoded);
            const row: ChatRow<Text> = { prompt: bytes, prompt_id: 'x', messages: [{ content: bytes, role: 'user' }] };
            const expected: ChatRow = { prompt: text, prompt_id: 'x', messages: [{ content: text, role: 'user' }] };
            for (const size of [1, 4096]) {
              const sink = sinkOf(size);
              // a block that starts inside its memory (byteOffset 3), at another alignment than the text's
              if (size > 1) sink.buf = Buffer.alloc(size + 3).subarray(3);
              sink.length = offset;
              writeJsonLine(row, sink);
              expect(sink.buf.subarray(offset, sink.length).toString('latin1')).toBe(toJsonLine(expected) + '\n');
            }
          }
        }
      }
    }
  });

  test('validation of byte rows gives the results of the decoded rows', () => {
    const enc = (s: string) => Buffer.from(s, 'utf8');
    const rows: unknown[] = [
      {
        prompt: 'p',
        prompt_id: 'i',
        messages: [
          { content: 'q', role: 'user' },
          { content: 'a', role: 'assistant' },
        ],
      },
      {
        messages: [
          { content: '  hé ', role: 'user' },
          { content: 'a', role: 'assistant' },
        ],
      },
      {
        messages: [
          { content: ' \u3000\u00a0\n', role: 'user' },
          { content: 'a', role: 'assistant' },
        ],
      },
      {
        messages: [
          { content: ' \t ', role: 'user' },
          { content: 'a', role: 'assistant' },
        ],
      },
      { messages: [{ content: 'q', role: 'usér' }] },
      { messages: [{ content: 'q', role: 'user' }] },
      { prompt: 'p', prompt_id: 'i', messages: [] },
    ];
    const toBytes = (v: unknown): unknown => {
      if (typeof v === 'string') return enc(v);
      if (Array.isArray(v)) return v.map(toBytes);
      if (typeof v === 'object' && v !== null) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toBytes(x)]));
      }
      return v;
    };
    for (const row of rows) {
      const expected = validateChatRow(row);
      const got = validateChatTextRow(toBytes(row));
      expect(got.ok).toBe(expected.ok);
      if (got.ok && expected.ok) {
        // prompt_id stays as it came (bytes here), and means the same string
        expect(textString(got.row.prompt_id)).toBe(expected.row.prompt_id);
        expect(got.row.messages.map((m) => m.role)).toEqual(expected.row.messages.map((m) => m.role));
      } else if (!got.ok && !expected.ok) {
        expect(got.reason).toBe(expected.reason);
      }
    }
  });
});
