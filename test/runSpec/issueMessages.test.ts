// Messages for checks a schema gives none of its own: each names the field and what it must be; a
// schema's own message always wins.
import { z } from 'zod';
import { issueMessage } from '../../src/runSpec/issueMessages';
import { parseRunSpec, RunSpecError } from '../../src/runSpec/schema';

const Probe = z.strictObject({
  name: z.string().min(1),
  label: z.string().min(3).max(5),
  count: z.number().int().min(1).max(10),
  ratio: z.number().gt(0).lt(1),
  flag: z.boolean(),
  tags: z.array(z.string()).min(1),
  value: z.union([z.string(), z.number(), z.boolean()]),
  mode: z.enum(['first', 'hash']),
  only: z.literal('x'),
  named: z.string().min(2, 'named needs two characters: say more'),
  nested: z.strictObject({ inner: z.number() }),
});

const valid = {
  name: 'a',
  label: 'abc',
  count: 1,
  ratio: 0.5,
  flag: true,
  tags: ['t'],
  value: 1,
  mode: 'first',
  only: 'x',
  named: 'ab',
  nested: { inner: 1 },
};

function messageFor(patch: Record<string, unknown>): string[] {
  const result = Probe.safeParse({ ...valid, ...patch }, { error: issueMessage });
  if (result.success) throw new Error(`accepted ${JSON.stringify(patch)}`);
  return result.error.issues.map((i) => i.message);
}

test.each([
  [{ name: 5 }, 'name must be a string, not a number'],
  [{ name: undefined }, 'name is required: give a string'],
  [{ name: '' }, 'name must not be empty'],
  [{ label: 'ab' }, 'label must have at least 3 characters'],
  [{ label: 'abcdef' }, 'label must have at most 5 characters'],
  [{ count: 0 }, 'count must be at least 1'],
  [{ count: 11 }, 'count must be at most 10'],
  [{ count: 1.5 }, 'count must be an integer, not a number'],
  [{ ratio: 0 }, 'ratio must be greater than 0'],
  [{ ratio: 1 }, 'ratio must be less than 1'],
  [{ flag: 'yes' }, 'flag must be true or false, not a string'],
  [{ tags: [] }, 'tags must have at least 1 item'],
  [{ tags: 'a' }, 'tags must be a list, not a string'],
  [{ value: [1] }, 'value must be a string, a number or a boolean, not a list'],
  [{ value: null }, 'value must be a string, a number or a boolean, not null'],
  [{ mode: 'random' }, 'mode must be one of "first", "hash"'],
  [{ only: 'y' }, 'only must be "x"'],
  [{ nested: { inner: '1' } }, 'nested.inner must be a number, not a string'],
  [{ nested: [] }, 'nested must be an object, not a list'],
  [{ extra: 1, more: 2 }, 'unknown field(s) "extra", "more": remove them or check the spelling'],
  [{ nested: { inner: 1, innr: 2 } }, 'unknown field(s) "innr": remove them or check the spelling'],
])('%j: %s', (patch, message) => {
  expect(messageFor(patch)).toEqual([message]);
});

test("a schema's own message wins over the generated one", () => {
  expect(messageFor({ named: 'a' })).toEqual(['named needs two characters: say more']);
});

test('run specs get the generated messages where the schema has none', () => {
  const issues = (() => {
    try {
      parseRunSpec({ deployment: { instanceCount: 0 }, compute: { createIfMissing: 'no' }, experimentName: '' });
    } catch (err) {
      if (err instanceof RunSpecError) return err.issues;
    }
    throw new Error('the spec was accepted');
  })();
  expect(issues).toEqual(
    expect.arrayContaining([
      { field: 'deployment.instanceCount', message: 'deployment.instanceCount must be at least 1' },
      { field: 'compute.createIfMissing', message: 'compute.createIfMissing must be true or false, not a string' },
      { field: 'experimentName', message: 'experimentName must not be empty' },
    ]),
  );
  // The values themselves are never echoed (a spec may hold a URL with a secret in it).
  expect(JSON.stringify(issues)).not.toContain('"no"');
});
