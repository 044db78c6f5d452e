// Local dataset files (an absolute path or a file:// URL in dataset.files) are read by the worker
// with its own permissions, for whoever may start a run. So they are read only under the
// directories the operator names (FTFLOW_DATA_ROOT, src/dataset/sourceSettings.ts), judged on the
// real path: symlinks (of the file and of every directory on the way) are resolved first, and the
// file is then read through that real path.
import { realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { errorMessage, FileNotReadable, SourceRefused } from './util';

export interface DataRoots {
  /** Absolute directories. */
  dirs: readonly string[];
  /** "env": the operator set them; "local-default": the local stack's defaults. */
  origin: 'env' | 'local-default';
  /** The variable that sets them (for messages). */
  variable: string;
}

function under(file: string, dir: string): boolean {
  const root = dir.endsWith(path.sep) ? dir : dir + path.sep;
  return file === dir || file.startsWith(root);
}

const ELSEWHERE = 'or give an https URL or an azureml://datastores/<name>/paths/<path> URI';

/**
 * The real path of `file` when it lies under one of `roots`; SourceRefused when it does not or no
 * root is set, FileNotReadable when it is under a root but cannot be resolved (missing, no access).
 * A missing file outside the roots is refused the same way as an existing one, so the answer says
 * nothing about files outside them.
 */
export async function confineLocalPath(file: string, roots: DataRoots | undefined): Promise<string> {
  if (!roots || roots.dirs.length === 0) {
    throw new SourceRefused(
      `local paths are not accepted by this worker (${roots?.variable ?? 'FTFLOW_DATA_ROOT'} is not set): the operator sets it to the directories dataset files may be read from; ${ELSEWHERE}`,
    );
  }
  const outside = () =>
    new SourceRefused(
      `${file} is outside the directories this worker reads dataset files from (${roots.variable}): put the file there, ${ELSEWHERE}`,
    );
  const realRoots = (
    await Promise.all(roots.dirs.map((d) => realpath(d).catch((): string | undefined => undefined)))
  ).filter((d): d is string => d !== undefined);
  const lexical = path.resolve(file);
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (err) {
    const lexicalRoots = roots.dirs.map((d) => path.resolve(d));
    if (![...realRoots, ...lexicalRoots].some((r) => under(lexical, r))) throw outside();
    throw new FileNotReadable(`reading ${file}: ${errorMessage(err)}`);
  }
  if (!realRoots.some((r) => under(real, r))) throw outside();
  return real;
}
