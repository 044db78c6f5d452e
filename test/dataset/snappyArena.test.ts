// Pages decompressed into a reader's arena (snappyArena.ts): the module is hysnappy's own, pages come out as
// hysnappy gives them, one after another in the same memory, until the next reset; a page that does not fit
// goes to the fallback.
import { readFileSync } from 'node:fs';
import { snappyCompress, snappyUncompress } from 'hysnappy';
import { hysnappyWasm, snappyArena } from '../../src/dataset/snappyArena';

function text(n: number, seed: number): Uint8Array {
  const words = ['bread ', 'balance ', 'é/"\\\n', 'temperature ', '😀 ', 'garden '];
  let out = '';
  for (let i = 0; out.length < n; i++) out += words[(i * 7 + seed) % words.length];
  return Buffer.from(out.slice(0, n), 'utf8');
}

describe('snappy arena', () => {
  test('the WebAssembly module is the installed hysnappy package', () => {
    const source = readFileSync(require.resolve('hysnappy/js/uncompress.js', { paths: [process.cwd()] }), 'utf8');
    const embedded = /const wasm64 = '([A-Za-z0-9+/=]+)'/.exec(source)?.[1];
    expect(embedded).toBeDefined();
    expect(Buffer.from(hysnappyWasm()).equals(Buffer.from(embedded as string, 'base64'))).toBe(true);
  });

  test("pages come out as hysnappy's, one after another in one memory, valid until the reset", () => {
    const fallback = jest.fn((input: Uint8Array, n: number) => snappyUncompress(input, n));
    const arena = snappyArena(fallback);
    const pages = [text(100_000, 1), text(5, 2), text(300_000, 3), new Uint8Array(0)];
    const compressed = pages.map((p) => snappyCompress(p));
    const room = pages.reduce((s, p, i) => s + p.length + compressed[i].length, 0);
    arena.reset(room);
    const out = compressed.map((c, i) => (arena.compressors.SNAPPY as typeof fallback)(c, pages[i].length));
    out.forEach((page, i) => expect(Buffer.from(page).equals(Buffer.from(pages[i]))).toBe(true));
    expect(new Set(out.map((p) => p.buffer)).size).toBe(1);
    expect(fallback).not.toHaveBeenCalled();

    // no room left: the next page goes to the fallback, and the pages before are untouched
    const extra = text(50_000, 4);
    const page = (arena.compressors.SNAPPY as typeof fallback)(snappyCompress(extra), extra.length);
    expect(fallback).toHaveBeenCalledTimes(1);
    expect(Buffer.from(page).equals(Buffer.from(extra))).toBe(true);
    expect(Buffer.from(out[0]).equals(Buffer.from(pages[0]))).toBe(true);

    // a reset that grows the memory: the views before are detached; the next group's pages start where
    // the first group's did
    const first = out[0].byteOffset - compressed[0].length;
    arena.reset(room * 3);
    expect(out[0].length).toBe(0);
    const again = (arena.compressors.SNAPPY as typeof fallback)(compressed[2], pages[2].length);
    expect(Buffer.from(again).equals(Buffer.from(pages[2]))).toBe(true);
    expect(again.byteOffset).toBe(first + compressed[2].length);
  });

  test('bytes that are not snappy fail as they fail in hysnappy', () => {
    const arena = snappyArena(snappyUncompress);
    arena.reset(1 << 20);
    const garbage = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(() => (arena.compressors.SNAPPY as typeof snappyUncompress)(garbage, 10)).toThrow(
      /snappy|eof|input|uncompress/,
    );
  });
});
