// The dataset part of the run spec: where the rows come from and how much of each split to take.
import { z } from 'zod';
import { SEED_DATASET } from './defaults';

export const DatasetSpec = z.strictObject({
  /** Hugging Face dataset id, e.g. "HuggingFaceH4/ultrachat_200k". */
  source: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'dataset.source must be a Hugging Face dataset id like "HuggingFaceH4/ultrachat_200k"').default(SEED_DATASET),
  revision: z.string().min(1).default('main'),
  trainSplit: z.string().min(1).default('train_sft'),
  testSplit: z.string().min(1).default('test_sft'),
  /** The split the smoke test takes its sample conversation from. */
  scoringSplit: z.string().min(1).default('test_gen'),
  percent: z
    .number({ error: 'dataset.percent must be a number between 0 (exclusive) and 100' })
    .gt(0, 'dataset.percent must be greater than 0')
    .max(100, 'dataset.percent must be at most 100')
    .default(5),
  /** Fail the run before submitting when more than this fraction of rows is invalid. */
  maxInvalidFraction: z.number().min(0).max(1).default(0.01),
});
