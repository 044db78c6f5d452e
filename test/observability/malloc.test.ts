// Which malloc a process runs on, as the worker reports it at start (WORKER_READY's `malloc`).
import { execFileSync } from 'node:child_process';
import { workerProcessEnv, WORKER_PROCESS_ENV } from '../../src/config/workerTuning';
import { mallocInUse } from '../../src/observability/memory';
import { setUpJemalloc } from '../helpers/jemalloc';

const GLIBC = [
  '5581c000-5581d000 r-xp 00000000 08:01 123 /usr/bin/node',
  '7f10a000-7f10c000 r-xp 00028000 08:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6',
  '7f20a000-7f20c000 r-xp 00001000 08:01 789 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
].join('\n');

test('jemalloc when its library is mapped, glibc when only libc and its loader are, else unknown', () => {
  expect(mallocInUse(GLIBC)).toBe('glibc');
  expect(mallocInUse(`${GLIBC}\n7f30a000-7f30c000 r-xp 00000000 08:01 42 /app/.tools/lib/libjemalloc.so.2`)).toBe(
    'jemalloc',
  );
  // An older glibc names its files by version.
  expect(mallocInUse('a /lib/x86_64-linux-gnu/libc-2.31.so\nb /lib64/ld-linux-x86-64.so.2')).toBe('glibc');
  // musl: neither.
  expect(mallocInUse('a /lib/ld-musl-x86_64.so.1')).toBe('unknown');
  expect(mallocInUse('')).toBe('unknown');
});

test('workerProcessEnv preloads jemalloc only when given its library', () => {
  expect(workerProcessEnv()).toEqual(WORKER_PROCESS_ENV);
  expect(workerProcessEnv('/usr/local/lib/libjemalloc.so.2')).toEqual({
    ...WORKER_PROCESS_ENV,
    LD_PRELOAD: '/usr/local/lib/libjemalloc.so.2',
  });
});

test("real processes: Node on its own runs on glibc's malloc, with set-up's jemalloc preloaded on jemalloc", () => {
  const jemalloc = setUpJemalloc();
  const mapsOf = (env: Record<string, string>) =>
    execFileSync(
      process.execPath,
      ['-e', "process.stdout.write(require('fs').readFileSync('/proc/self/maps', 'utf8'))"],
      {
        env: { PATH: process.env.PATH ?? '', ...env },
        encoding: 'utf8',
      },
    );
  expect(mallocInUse(mapsOf({}))).toBe('glibc');
  expect(mallocInUse(mapsOf(workerProcessEnv(jemalloc)))).toBe('jemalloc');
});
