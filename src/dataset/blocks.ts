// How a staged JSONL file is laid out as a block blob, and how its content hash is defined.
//
// Blocks hold whole lines: lines are appended until the block reaches the target size, so block
// boundaries depend only on the rows and the target size, and a retry rebuilds the same blocks.
// Block i has the id blockId(i), so a retry that stages block i again overwrites the uncommitted
// block of the attempt before it, and the commit lists exactly the blocks of the final content.
//
// Content hash: sha256 over the concatenated sha256 digests (32 raw bytes each) of the blocks, in
// order. A whole-file sha256 cannot be carried across a worker restart (a hash object's state does
// not serialise), but a list of block digests can: it travels in the heartbeat. Anyone can check
// the hash from the blob alone: its committed block list gives the block sizes, so hash each range
// and then the digests (blockListSha256 of those digests).
import { createHash } from 'node:crypto';

/** What Azure allows per block blob. */
export const MAX_BLOCKS = 50_000;

/**
 * Target block size for staging: 4 MiB. Memory while staging is a few blocks (the one filling, the
 * ones uploading, and TLS's copy of each upload), so this and the upload concurrency set the bound;
 * 4 MiB x 50,000 blocks still allows a 195 GiB file.
 */
export const DEFAULT_BLOCK_BYTES = 4 * 1024 * 1024;

/** Block ids of one blob must all have the same length: a fixed prefix and a 6-digit index. */
export function blockId(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_BLOCKS) {
    throw new RangeError(`block index must be an integer in [0, ${MAX_BLOCKS}), got ${index}`);
  }
  return Buffer.from(`ftflow-block-${String(index).padStart(6, '0')}`, 'ascii').toString('base64');
}

/** sha256 of one block, base64 (the form heartbeats carry). */
export function blockDigest(block: Uint8Array): string {
  return createHash('sha256').update(block).digest('base64');
}

/** The content hash (hex) of a staged file from its block digests (base64, in block order). */
export function blockListSha256(digests: readonly string[]): string {
  const hash = createHash('sha256');
  for (const d of digests) hash.update(Buffer.from(d, 'base64'));
  return hash.digest('hex');
}

/** The content hash of bytes cut at the given block sizes (checks a blob against its recorded hash). */
export function blockListSha256Of(data: Uint8Array, blockSizes: readonly number[]): string {
  const digests: string[] = [];
  let offset = 0;
  for (const size of blockSizes) {
    digests.push(blockDigest(data.subarray(offset, offset + size)));
    offset += size;
  }
  if (offset !== data.length) throw new RangeError(`block sizes add up to ${offset} bytes, not ${data.length}`);
  return blockListSha256(digests);
}
