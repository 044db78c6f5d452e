// Keep-alive requests as the CLI, the API and the client take them: one of extend or end, named in errors.
import { durationMinutes, keepAliveChange, keepAliveMessage } from '../../src/control/keepAlive';
import { keepAliveRequestOf } from '../../src/cli/commands/results';
import { ControlError } from '../../src/control/errors';

test('extend by minutes, or end now; exactly one', () => {
  expect(keepAliveChange({ extendMinutes: 120 })).toEqual({ extendMinutes: 120 });
  expect(keepAliveChange({ end: true })).toEqual({ endNow: true });
  expect(keepAliveChange({ end: false, extendMinutes: 5 })).toEqual({ extendMinutes: 5 });
  for (const bad of [{}, { extendMinutes: 5, end: true }, { end: false }])
    expect(() => keepAliveChange(bad)).toThrow(/extendMinutes: give extendMinutes .* or end/);
});

test('the minutes must be positive and at most 7 days ahead; errors name the field and say the fix', () => {
  for (const extendMinutes of [0, -5, Number.NaN]) {
    const err = (() => {
      try {
        keepAliveChange({ extendMinutes });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ControlError);
    expect(err).toMatchObject({ code: 'invalid', issues: [{ field: 'extendMinutes' }] });
  }
  expect(() => keepAliveChange({ extendMinutes: 7 * 24 * 60 + 1 })).toThrow(/at most 10080 minutes/);
});

test('durations as the CLI takes them: "2h", "90m", "1h30m", "1 day", or minutes', () => {
  expect(durationMinutes('2h', '--extend')).toBe(120);
  expect(durationMinutes('90m', '--extend')).toBe(90);
  expect(durationMinutes('1h30m', '--extend')).toBe(90);
  expect(durationMinutes('1 day', '--extend')).toBe(1440);
  expect(durationMinutes('45', '--extend')).toBe(45);
  expect(() => durationMinutes('soon', '--extend')).toThrow(/--extend: must be a duration such as "2h"/);
  expect(() => durationMinutes('0m', '--extend')).toThrow(/--extend/);
});

test('the CLI names its flags: --extend or --end', () => {
  expect(keepAliveRequestOf({ extend: '2h' })).toEqual({ extendMinutes: 120 });
  expect(keepAliveRequestOf({ end: true })).toEqual({ end: true });
  expect(() => keepAliveRequestOf({})).toThrow(/--extend: give --extend .* or --end/);
  expect(() => keepAliveRequestOf({ extend: '1h', end: true })).toThrow(/one of the two/);
});

test('what the caller is told', () => {
  expect(keepAliveMessage('ft-a', 'ftflow-x', null)).toBe('run ft-a: endpoint ftflow-x is being deleted now');
  expect(keepAliveMessage('ft-a', 'ftflow-x', '2026-01-01T00:00:00.000Z')).toMatch(
    /serves until 2026-01-01T00:00:00.000Z/,
  );
});
