// The notebook's get_pipeline_display_name(), kept exact: it names the job in Azure ML Studio.

export type ParameterValue = string | number | boolean;

export function pipelineDisplayName(
  modelName: string,
  parameters: Readonly<Record<string, ParameterValue>>,
  gpusPerNode: number,
): string {
  const int = (key: string, fallback: number): number => {
    const value = parameters[key];
    return value === undefined ? fallback : Math.trunc(Number(value));
  };
  const str = (key: string, fallback: string): string => {
    const value = parameters[key];
    return value === undefined ? fallback : String(value);
  };
  const batchSize =
    int('per_device_train_batch_size', 1) *
    int('gradient_accumulation_steps', 1) *
    Math.trunc(gpusPerNode) *
    int('num_nodes_finetune', 1);
  const scheduler = str('lr_scheduler_type', 'linear');
  const deepspeed = str('apply_deepspeed', 'false') === 'true' ? `ds${str('deepspeed_stage', '2')}` : 'nods';
  const lora = str('apply_lora', 'false') === 'true' ? 'lora' : 'nolora';
  const saveLimit = str('save_total_limit', '-1');
  const seqLen = str('max_seq_length', '-1');
  return `${modelName}-ultrachat-bs${batchSize}-${scheduler}-${deepspeed}-${lora}-save_limit${saveLimit}-seqlen${seqLen}`;
}
