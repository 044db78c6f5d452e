// Ranged reads over HTTP (bytes.ts, httpAsyncBuffer): a 206 body is read into one buffer of the size asked
// for, in as many chunks as it comes; a body of another size is an error that says what was asked and got.
import { httpAsyncBuffer } from '../../src/dataset';

function answer(chunks: Uint8Array[], status = 206): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
  return new Response(body, { status });
}

const bytes = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

describe('ranged reads over HTTP', () => {
  test('a body in several chunks becomes the bytes asked for', async () => {
    const ranges: string[] = [];
    const buffer = httpAsyncBuffer('https://example.test/f.parquet', 1000, {
      fetch: async (_url, init) => {
        ranges.push(new Headers(init?.headers).get('range') ?? '');
        return answer([bytes(100, 10), bytes(1, 110), bytes(199, 111)]);
      },
    });
    const data = new Uint8Array(await buffer.slice(10, 310));
    expect(ranges).toEqual(['bytes=10-309']);
    expect(Buffer.from(data).equals(Buffer.from(bytes(300, 10)))).toBe(true);
  });

  test('a body shorter or longer than asked is an error', async () => {
    const short = httpAsyncBuffer('https://example.test/f.parquet', 1000, {
      fetch: async () => answer([bytes(100), bytes(50)]),
    });
    await expect(short.slice(0, 200)).rejects.toThrow('asked for bytes 0-199 and got 150 bytes');
    const long = httpAsyncBuffer('https://example.test/f.parquet', 1000, {
      fetch: async () => answer([bytes(150), bytes(100)]),
    });
    await expect(long.slice(0, 200)).rejects.toThrow('asked for bytes 0-199 and got more than 200 bytes');
  });
});
