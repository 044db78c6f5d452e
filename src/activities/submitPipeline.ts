// Step 5. Builds the chat_completion_pipeline job as the notebook's DSL does and PUTs it under the name
// derived from the run. Reads before it creates and treats "already exists" as success, so a retried or
// resumed run adopts its job instead of paying for a second one; only a job that failed or was
// cancelled is followed by a new one, under the run's next job name (<name>-r2, ...).
import type { JobBase, PipelineJob } from '@azure/arm-machinelearning';
import type { ActivityDeps } from './deps';
import { RUN_TAG } from '../azure/tags';
import type { SubmitPipelineInput, SubmittedJob } from './types';
import { classified, isConflict, isNotFound, RunFailure } from '../azure/errors';
import { MAX_JOB_ATTEMPTS, jobNameForAttempt } from '../runSpec/names';
import { describeJob } from './trainingInputs';

/** A job in one of these states cannot produce a model; a resumed run submits a new one. */
export const UNADOPTABLE_JOB_STATES = new Set(['Failed', 'Canceled', 'CancelRequested', 'NotResponding', 'Paused']);

const PIPELINE_NODE = 'chat_completion_pipeline';

export function makeSubmitPipeline(deps: ActivityDeps) {
  const { config, arm } = deps;
  return async function submitPipeline(input: SubmitPipelineInput): Promise<SubmittedJob> {
    return classified('submitPipeline', async () => {
      const { names, spec, model, compute, data } = input;
      const job = await describeJob(deps, spec, model, compute.gpusPerNode);
      const { declared, merged } = job.inputs;
      const displayName = job.displayName;
      const result = {
        componentId: job.componentId,
        displayName,
        parameters: job.parameters,
        warnings: job.warnings,
        notes: job.notes,
      };

      // The first of the run's job names that is free, or holds a job that can still succeed (adopted).
      let jobName: string | undefined;
      for (let attempt = 1; attempt <= MAX_JOB_ATTEMPTS && jobName === undefined; attempt++) {
        const candidate = jobNameForAttempt(names.jobName, attempt);
        try {
          const existing = await arm.jobs.get(config.resourceGroup, config.workspace, candidate);
          if (!UNADOPTABLE_JOB_STATES.has(existing.properties.status ?? ''))
            return { jobName: candidate, ...result, adopted: true };
        } catch (err) {
          if (!isNotFound(err)) throw err;
          jobName = candidate;
        }
      }
      if (jobName === undefined) {
        throw new RunFailure(
          'validation',
          `run ${names.runId} already has ${MAX_JOB_ATTEMPTS} failed or cancelled jobs; start a new run`,
          'TooManyJobAttempts',
        );
      }

      const literal = (value: string) => ({ job_input_type: 'literal', value });
      const nodeInputs: Record<string, unknown> = {
        mlflow_model_path: { job_input_type: 'mlflow_model', uri: model.assetId },
        compute_model_import: literal(compute.name),
        compute_preprocess: literal(compute.name),
        compute_finetune: literal(compute.name),
        compute_model_evaluation: literal(compute.name),
        train_file_path: { job_input_type: 'uri_file', uri: data.train.uri },
        test_file_path: { job_input_type: 'uri_file', uri: data.test.uri },
        number_of_gpu_to_use_finetuning: literal(String(compute.gpusPerNode)),
      };
      for (const [key, value] of Object.entries(merged.literals)) nodeInputs[key] = literal(value);
      for (const key of Object.keys(nodeInputs)) {
        if (!(key in declared)) delete nodeInputs[key]; // e.g. compute_model_evaluation on versions without it
      }
      const properties: PipelineJob = {
        jobType: 'Pipeline',
        displayName,
        experimentName: input.experimentName,
        description: `finetune-flow run ${names.runId}`,
        tags: { [RUN_TAG]: names.runId },
        properties: {},
        inputs: {},
        outputs: { trained_model: { jobOutputType: 'mlflow_model' } },
        settings: { force_rerun: true, continue_on_step_failure: false, _source: 'DSL' },
        jobs: {
          [PIPELINE_NODE]: {
            name: PIPELINE_NODE,
            type: 'pipeline',
            _source: 'REMOTE.REGISTRY',
            componentId: job.componentId,
            tags: {},
            properties: {},
            inputs: nodeInputs,
            outputs: { mlflow_model_folder: { value: '${{parent.outputs.trained_model}}', type: 'literal' } },
          },
        },
      };
      try {
        const created = await arm.jobs.createOrUpdate(config.resourceGroup, config.workspace, jobName, {
          properties,
        } as JobBase);
        return { jobName: created.name ?? jobName, ...result, adopted: false };
      } catch (err) {
        if (isConflict(err)) return { jobName, ...result, adopted: true };
        throw err;
      }
    });
  };
}
