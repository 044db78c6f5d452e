// The worker thread of encoderPool.ts: encodes each row group it is sent (rowGroup.ts) and sends the
// JSONL and the per-row outcomes back, their memory moved rather than copied.
import { parentPort } from 'node:worker_threads';
import type { EncodeReply, EncodeRequest } from './encoderPool';
import { encodeRowGroup } from './rowGroup';
import { errorMessage } from './util';

const port = parentPort;
if (!port) throw new Error('encodeWorker.js runs as a worker thread (encoderPool.ts starts it)');

port.on('message', ({ id, job }: EncodeRequest) => {
  encodeRowGroup(job).then(
    (encoded) => {
      const reply: EncodeReply = { id, encoded };
      // encode.ts allocates these arrays for the batch alone (never from Buffer's shared pool)
      const moved = [encoded.jsonl.buffer, encoded.lineEnds.buffer, encoded.outcomes.buffer] as ArrayBuffer[];
      port.postMessage(reply, moved);
    },
    (err: unknown) => {
      const reply: EncodeReply = { id, error: errorMessage(err) };
      port.postMessage(reply);
    },
  );
});
