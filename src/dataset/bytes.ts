// Byte access to one file wherever it lives: a local path, an http(s) URL, or a blob in the
// workspace's datastore. The row readers (JSONL lines, parquet row groups) sit on top of this; the
// staging code also asks a source for its version (mtime, ETag), to know when a file changed.
//
// Nothing here reads a whole file into memory: streams start at a byte offset (so a JSONL read can
// resume mid-file), and parquet gets random access through an AsyncBuffer of ranged reads.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { asyncBufferFromFile } from 'hyparquet';
import type { AsyncBuffer } from 'hyparquet';
import {
  displayName,
  fetchWithRetry,
  remoteFileInfo,
  requestHeaders,
  statusError,
  type HttpOptions,
  type ReadStats,
} from './http';
import { errorMessage, FileNotReadable } from './util';

export interface ByteSourceInfo {
  size: number;
  /** Changes whenever the content does (mtime, ETag, Last-Modified); undefined when the source cannot tell. */
  version?: string;
}

export interface ByteSource {
  /** The file as messages and records show it: a path, or a URL without its query. */
  readonly name: string;
  info(): Promise<ByteSourceInfo>;
  /** The bytes from `offset` to the end. */
  stream(offset: number, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>>;
  /** Random access (parquet footers and row groups). */
  asyncBuffer(): Promise<AsyncBuffer>;
}

/** Large reads from a file or socket: fewer, bigger chunks for the line splitter. */
const STREAM_CHUNK = 256 * 1024;
/** A server that ignores Range is tolerated for parquet slices only below this size. */
const WHOLE_BODY_LIMIT = 8 * 1024 * 1024;

function countingBuffer(buffer: AsyncBuffer, stats: ReadStats | undefined): AsyncBuffer {
  if (!stats) return buffer;
  return {
    byteLength: buffer.byteLength,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const data = await buffer.slice(start, end);
      stats.requests++;
      stats.bytesFetched += data.byteLength;
      return data;
    },
  };
}

async function* counting(chunks: AsyncIterable<Uint8Array>, stats: ReadStats | undefined): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    if (stats) stats.bytesFetched += chunk.byteLength;
    yield chunk;
  }
}

/** Drops the first `skip` bytes of a stream (a server that answered a Range request with the whole file). */
async function* skipBytes(chunks: AsyncIterable<Uint8Array>, skip: number): AsyncGenerator<Uint8Array> {
  let left = skip;
  for await (const chunk of chunks) {
    if (left >= chunk.byteLength) {
      left -= chunk.byteLength;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

/**
 * A file on the worker's disk. Its version is size + mtime, so an edited file is staged again.
 * `name` (default: the path) is how messages and records show it, e.g. the path the spec gave when
 * `path` is its resolved real path.
 */
export function localByteSource(path: string, stats?: ReadStats, name: string = path): ByteSource {
  const info = async (): Promise<ByteSourceInfo> => {
    const s = await stat(path).catch((err: unknown) => {
      throw new FileNotReadable(`reading ${name}: ${errorMessage(err)}`);
    });
    if (!s.isFile()) throw new FileNotReadable(`reading ${name}: not a regular file`);
    return { size: s.size, version: `${s.size}|${s.mtimeMs}` };
  };
  return {
    name,
    info,
    async stream(offset) {
      await info();
      if (stats) stats.requests++;
      return counting(createReadStream(path, { start: offset, highWaterMark: STREAM_CHUNK }), stats);
    },
    async asyncBuffer() {
      return countingBuffer(await asyncBufferFromFile(path), stats);
    },
  };
}

/**
 * A range's body read straight into one buffer of the size asked for (Response#arrayBuffer keeps the chunks
 * and copies them into a new buffer at the end: twice the bytes of garbage for the collector). `asked`
 * starts the message of a body of another size.
 */
async function rangeBody(res: Response, length: number, asked: string, target?: Uint8Array): Promise<Uint8Array> {
  const out = target ?? new Uint8Array(length);
  let n = 0;
  if (res.body) {
    // leaving the loop (a body longer than asked) cancels the stream
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      if (n + chunk.byteLength > length) throw new Error(`${asked} and got more than ${length} bytes`);
      out.set(chunk, n);
      n += chunk.byteLength;
    }
  }
  if (n !== length) throw new Error(`${asked} and got ${n} bytes`);
  return out;
}

/** An AsyncBuffer that can also read a range into memory the caller gives (staging reuses it: parquet.ts). */
export interface RangeReader extends AsyncBuffer {
  /** Bytes [start, end) into `target`, from its first byte on (it must hold them). */
  sliceInto(start: number, end: number, target: Uint8Array): Promise<void>;
}

export function isRangeReader(buffer: AsyncBuffer): buffer is RangeReader {
  return typeof (buffer as Partial<RangeReader>).sliceInto === 'function';
}

/**
 * An AsyncBuffer over HTTP range requests. Each slice is one `Range: bytes=a-b` request; a server
 * that ignores Range is only tolerated for small files (it would otherwise send the whole file).
 */
export function httpAsyncBuffer(url: string, byteLength: number, opts: HttpOptions = {}): RangeReader {
  const what = `reading ${displayName(url)}`;
  /** Bytes [start, stop) of the file, into `target` when given (else a new buffer of their size). */
  const read = async (start: number, stop: number, target?: Uint8Array): Promise<Uint8Array> => {
    const res = await fetchWithRetry(
      url,
      { headers: { ...requestHeaders(opts), Range: `bytes=${start}-${stop - 1}` } },
      opts,
      what,
    );
    if (res.status === 206) {
      const body = await rangeBody(res, stop - start, `${what}: asked for bytes ${start}-${stop - 1}`, target);
      if (opts.stats) opts.stats.bytesFetched += stop - start;
      return body;
    }
    if (res.status === 200) {
      if (byteLength > WHOLE_BODY_LIMIT) {
        await res.body?.cancel().catch(() => undefined);
        throw new Error(
          `${what}: the server ignores Range requests; refusing to download the whole ${byteLength}-byte file`,
        );
      }
      const body = await res.arrayBuffer();
      if (opts.stats) opts.stats.bytesFetched += body.byteLength;
      const bytes = new Uint8Array(body.slice(start, stop));
      if (!target) return bytes;
      if (bytes.length !== stop - start)
        throw new Error(`${what}: asked for bytes ${start}-${stop - 1} and got ${bytes.length} bytes`);
      target.set(bytes);
      return target;
    }
    await res.body?.cancel().catch(() => undefined);
    throw statusError(res, what, opts);
  };
  return {
    byteLength,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? byteLength, byteLength);
      if (stop <= start) return new ArrayBuffer(0);
      return (await read(start, stop)).buffer as ArrayBuffer;
    },
    async sliceInto(start: number, end: number, target: Uint8Array): Promise<void> {
      const stop = Math.min(end, byteLength);
      if (target.length < stop - start) throw new RangeError(`${stop - start} bytes do not fit in ${target.length}`);
      if (stop > start) await read(start, stop, target);
    },
  };
}

/**
 * A file behind an http(s) URL. Streams resume with `Range: bytes=<offset>-`; a server without
 * Range support sends everything and the prefix is skipped. The version is the ETag or
 * Last-Modified; a server that sends neither gives no version (the file is then never reused).
 */
export function httpByteSource(url: string, opts: HttpOptions = {}): ByteSource {
  const what = `reading ${displayName(url)}`;
  let known: ByteSourceInfo | undefined;
  const info = async (): Promise<ByteSourceInfo> => (known ??= await remoteFileInfo(url, opts));
  return {
    name: displayName(url),
    info,
    async stream(offset, signal) {
      const headers = { ...requestHeaders(opts), ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}) };
      const res = await fetchWithRetry(url, { headers, ...(signal ? { signal } : {}) }, opts, what);
      if ((res.status !== 200 && res.status !== 206) || !res.body) {
        await res.body?.cancel().catch(() => undefined);
        throw statusError(res, what, opts);
      }
      const body = counting(Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>), opts.stats);
      return res.status === 206 || offset === 0 ? body : skipBytes(body, offset);
    },
    async asyncBuffer() {
      return httpAsyncBuffer(url, (await info()).size, opts);
    },
  };
}

/** The part of @azure/storage-blob's BlobClient the readers use (kept structural: no Azure import here). */
export interface BlobReader {
  readonly url: string;
  getProperties(options?: {
    abortSignal?: AbortSignal;
  }): Promise<{ contentLength?: number; etag?: string; lastModified?: Date }>;
  download(
    offset?: number,
    count?: number,
    options?: { abortSignal?: AbortSignal },
  ): Promise<{ readableStreamBody?: NodeJS.ReadableStream }>;
}

/** A blob read with the datastore's credentials. Its version is the ETag. */
export function blobByteSource(blob: BlobReader, name: string, stats?: ReadStats): ByteSource {
  const what = `reading ${name}`;
  let known: ByteSourceInfo | undefined;
  const info = async (): Promise<ByteSourceInfo> => {
    if (!known) {
      const props = await blob.getProperties().catch((err: unknown) => {
        if ((err as { statusCode?: number }).statusCode === 404)
          throw new BlobNotFound(`${what}: the blob does not exist`);
        throw err;
      });
      const size = props.contentLength ?? 0;
      known = { size, version: `${props.etag ?? ''}|${size}` };
    }
    return known;
  };
  const download = async (
    offset: number,
    count: number | undefined,
    signal?: AbortSignal,
  ): Promise<NodeJS.ReadableStream> => {
    if (stats) stats.requests++;
    const res = await blob.download(offset, count, signal ? { abortSignal: signal } : {});
    if (!res.readableStreamBody) throw new Error(`${what}: the download has no body`);
    return res.readableStreamBody;
  };
  return {
    name,
    info,
    async stream(offset, signal) {
      const size = (await info()).size;
      if (offset >= size) return (async function* () {})();
      return counting((await download(offset, undefined, signal)) as AsyncIterable<Uint8Array>, stats);
    },
    async asyncBuffer() {
      const { size } = await info();
      return {
        byteLength: size,
        async slice(start: number, end?: number): Promise<ArrayBuffer> {
          const stop = Math.min(end ?? size, size);
          if (stop <= start) return new ArrayBuffer(0);
          const chunks: Buffer[] = [];
          for await (const chunk of (await download(start, stop - start)) as AsyncIterable<Buffer>) chunks.push(chunk);
          const data = Buffer.concat(chunks);
          if (stats) stats.bytesFetched += data.byteLength;
          return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
        },
      };
    },
  };
}

/** A datastore blob that is not there. */
export class BlobNotFound extends Error {
  override readonly name = 'BlobNotFound';
}
