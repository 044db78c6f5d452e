// Chat-row validation: reasons, clean copies, and the invalid-row threshold.
import {
  INVALID_REASONS,
  UnparsableLine,
  ValidationTally,
  validateChatRow,
  type InvalidReason,
} from '../../src/dataset';

const good = {
  prompt: 'How do I bake bread?',
  prompt_id: 'a'.repeat(64),
  messages: [
    { content: 'How do I bake bread?', role: 'user' },
    { content: 'Mix flour, water, salt and yeast…', role: 'assistant' },
  ],
};

function reasonOf(row: unknown): InvalidReason | 'ok' {
  const r = validateChatRow(row);
  return r.ok ? 'ok' : r.reason;
}

describe('validateChatRow', () => {
  test('a good row passes and comes back as a clean copy in column order', () => {
    const row = {
      messages: [
        { role: 'system', content: 'Be brief.', name: 'x' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!', weight: 1 },
      ],
      extra: 1,
      prompt_id: 'b'.repeat(64),
      prompt: 'Hi',
    };
    const r = validateChatRow(row);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Object.keys(r.row)).toEqual(['prompt', 'prompt_id', 'messages']);
    expect(r.row.messages.map((m) => Object.keys(m))).toEqual([
      ['content', 'role'],
      ['content', 'role'],
      ['content', 'role'],
    ]);
    expect(r.row.messages[0]).toEqual({ content: 'Be brief.', role: 'system' });
    expect(r.row.messages).not.toBe(row.messages);
  });

  test('each rule has its reason', () => {
    const cases: [unknown, InvalidReason | 'ok'][] = [
      [good, 'ok'],
      [new UnparsableLine(3, 'Unexpected token'), 'invalid_json'],
      [null, 'not_an_object'],
      ['text', 'not_an_object'],
      [[good], 'not_an_object'],
      [{ ...good, messages: undefined }, 'messages_missing'],
      [{ prompt: 'x', prompt_id: 'y' }, 'messages_missing'],
      [{ ...good, messages: 'hi' }, 'messages_missing'],
      [{ ...good, messages: [] }, 'messages_empty'],
      [{ ...good, messages: ['hi'] }, 'message_malformed'],
      [{ ...good, messages: [{ role: 'user' }, { content: 'a', role: 'assistant' }] }, 'message_malformed'],
      [
        {
          ...good,
          messages: [
            { role: 'user', content: 5 },
            { content: 'a', role: 'assistant' },
          ],
        },
        'message_malformed',
      ],
      [
        {
          ...good,
          messages: [
            { role: 'human', content: 'hi' },
            { content: 'a', role: 'assistant' },
          ],
        },
        'bad_role',
      ],
      [
        {
          ...good,
          messages: [
            { role: 'user', content: 'hi' },
            { content: 'a', role: 'gpt' },
          ],
        },
        'bad_role',
      ],
      [
        {
          ...good,
          messages: [
            { role: 'user', content: 'hi' },
            { content: '', role: 'assistant' },
          ],
        },
        'empty_content',
      ],
      [
        {
          ...good,
          messages: [
            { role: 'user', content: ' \n\t' },
            { content: 'a', role: 'assistant' },
          ],
        },
        'empty_content',
      ],
      [{ ...good, messages: [{ role: 'assistant', content: 'a' }] }, 'no_user_turn'],
      [
        {
          ...good,
          messages: [
            { role: 'system', content: 's' },
            { role: 'assistant', content: 'a' },
          ],
        },
        'no_user_turn',
      ],
      [{ ...good, messages: [{ role: 'user', content: 'hi' }] }, 'no_assistant_turn'],
      [
        {
          ...good,
          messages: [
            { role: 'user', content: 'a' },
            { role: 'user', content: 'b' },
          ],
        },
        'no_assistant_turn',
      ],
      [{ ...good, prompt: 42 }, 'prompt_invalid'],
      [{ ...good, prompt_id: 7 }, 'prompt_id_invalid'],
      [{ ...good, prompt: undefined, prompt_id: null }, 'ok'],
    ];
    for (const [row, reason] of cases) expect([row, reasonOf(row)]).toEqual([row, reason]);
  });

  test('a messages-only row gets prompt = first user message and prompt_id = its sha256', () => {
    const r = validateChatRow({
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi' },
      ],
    });
    expect(r).toEqual({
      ok: true,
      row: {
        prompt: 'Hello',
        prompt_id: '185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969',
        messages: [
          { content: 'sys', role: 'system' },
          { content: 'Hello', role: 'user' },
          { content: 'Hi', role: 'assistant' },
        ],
      },
    });
  });

  test('every reason has a human message', () => {
    for (const message of Object.values(INVALID_REASONS)) expect(message.length).toBeGreaterThan(10);
  });
});

describe('ValidationTally', () => {
  test('counts by reason, keeps the first 3 examples and computes the fraction', () => {
    const tally = new ValidationTally('HuggingFaceH4/ultrachat_200k train_sft[0%:5%]');
    for (let i = 0; i < 1000; i++) {
      if (i % 100 === 7) tally.reject(i, i < 500 ? 'empty_content' : 'bad_role');
      else tally.record(i, validateChatRow(good));
    }
    expect(tally.totalRows).toBe(1000);
    expect(tally.invalidRows).toBe(10);
    expect(tally.validRows).toBe(990);
    expect(tally.fraction()).toBe(0.01);
    const summary = tally.summary();
    expect(summary.byReason).toEqual({ empty_content: 5, bad_role: 5 });
    expect(summary.examples).toEqual([
      { row: 7, reason: 'empty_content' },
      { row: 107, reason: 'empty_content' },
      { row: 207, reason: 'empty_content' },
    ]);
    expect(() => tally.check(0.01)).not.toThrow(); // exactly at the threshold passes
    expect(() => tally.check(0.005)).toThrow(
      'HuggingFaceH4/ultrachat_200k train_sft[0%:5%]: 10 of 1000 rows are invalid (1%), more than the allowed 0.5%. ' +
        'Reasons: 5 × empty_content (a message has empty content); 5 × bad_role (a message has a role other than system, user or assistant). ' +
        'First examples: row 7: empty_content, row 107: empty_content, row 207: empty_content. Fix the data or raise the invalid-row threshold.',
    );
    expect(() => tally.check(2)).toThrow(RangeError);
  });

  test('an empty tally passes; a summary round-trips (heartbeat resume)', () => {
    const empty = new ValidationTally();
    expect(empty.fraction()).toBe(0);
    expect(() => empty.check(0)).not.toThrow();

    const tally = new ValidationTally('x');
    tally.ok();
    tally.reject(1, 'messages_empty');
    const copy = ValidationTally.fromSummary(JSON.parse(JSON.stringify(tally.summary())), 'x');
    copy.reject(2, 'messages_empty');
    expect(copy.summary()).toEqual({
      total: 3,
      valid: 1,
      invalid: 2,
      byReason: { messages_empty: 2 },
      examples: [
        { row: 1, reason: 'messages_empty' },
        { row: 2, reason: 'messages_empty' },
      ],
    });
    expect(() => copy.check(0.5)).toThrow(/2 of 3 rows are invalid \(66\.667%\)/);
  });
});
