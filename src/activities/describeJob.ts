// A dry run's look at the job a run would submit: the pipeline component, the notebook's display name and
// the merged training inputs, built by the same code submitPipeline builds the job with (trainingInputs.ts).
// Reads only (the registry's component); idempotent.
import type { ActivityDeps } from './deps';
import type { DescribeJobInput, JobDescription } from './types';
import { classified } from '../azure/errors';
import { describeJob } from './trainingInputs';

export function makeDescribeJob(deps: ActivityDeps) {
  return async function describeJobActivity(input: DescribeJobInput): Promise<JobDescription> {
    return classified('describeJob', async () => {
      const { inputs: _inputs, ...job } = await describeJob(deps, input.spec, input.model, input.compute.gpusPerNode);
      return job;
    });
  };
}
