import { isoDuration } from '../../src/activities/heartbeat';
import { replyText } from '../../src/azure/scoring';

describe('replyText', () => {
  test('reads {"output": "..."}', () => {
    expect(replyText({ output: 'The capital of France is Paris.' })).toBe('The capital of France is Paris.');
  });

  test('reads the MLflow records form [{"0": "..."}]', () => {
    expect(replyText([{ '0': 'Hello there' }])).toBe('Hello there');
  });

  test('reads a plain list of strings', () => {
    expect(replyText(['first', 'second'])).toBe('first');
  });

  test('an empty output string is returned as is (the caller rejects blank replies)', () => {
    expect(replyText({ output: '' })).toBe('');
  });

  test.each<[string, unknown]>([
    ['null', null],
    ['a number', 42],
    ['a bare string', 'hi'],
    ['an empty object', {}],
    ['an empty list', []],
    ['a numeric output', { output: 5 }],
    ['an object output', { output: { text: 'x' } }],
    ['a record with a non-string value', [{ '0': 5 }]],
    ['an empty record', [{}]],
    ['a list starting with null', [null, 'x']],
  ])('bad shape (%s) gives undefined', (_what, body) => {
    expect(replyText(body)).toBeUndefined();
  });
});

describe('isoDuration', () => {
  test.each([
    [600, 'PT10M'],
    [90, 'PT1M30S'],
    [0, 'PT0S'],
    [3661, 'PT1H1M1S'],
    [3600, 'PT1H'],
    [59, 'PT59S'],
    [90000 / 1000, 'PT1M30S'],
    [0.4, 'PT0S'],
    [89.6, 'PT1M30S'],
    [86400, 'PT24H'],
  ])('%p s → %s', (seconds, iso) => {
    expect(isoDuration(seconds)).toBe(iso);
  });
});
