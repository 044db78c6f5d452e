// JSONL written exactly like pandas to_json(orient="records", lines=True) with default settings.
import {
  pandasJsonString,
  toJsonLine,
  toJsonLines,
  validateChatRow,
  writeJsonLine,
  type ChatRow,
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
