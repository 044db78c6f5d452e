// The seed notebook's defaults, in one place. Pure data: imported by the schema, the workflow and docs.

/** The notebook's own training and optimisation parameters (before the model's defaults override them). */
export const SEED_TRAINING_PARAMETERS: Readonly<Record<string, string | number>> = {
  num_train_epochs: 3,
  per_device_train_batch_size: 1,
  per_device_eval_batch_size: 1,
  learning_rate: 5e-6,
  lr_scheduler_type: 'cosine',
  apply_lora: 'true',
  apply_deepspeed: 'true',
  deepspeed_stage: 2,
};

export const SEED_SCORING_PARAMETERS = {
  temperature: 0.6,
  top_p: 0.9,
  do_sample: true,
  max_new_tokens: 200,
} as const;

/** VM sizes the notebook refuses for fine-tuning when the model publishes no allow list. */
export const SEED_UNSUPPORTED_FINETUNE_VM_SIZES = ['standard_nc6', 'standard_nc12', 'standard_nc24', 'standard_nc24r'];

export const SEED_MODEL = { registry: 'azureml', name: 'Phi-3-mini-4k-instruct' } as const;
export const SEED_PIPELINE_COMPONENT = 'chat_completion_pipeline';
export const SEED_DATASET = 'HuggingFaceH4/ultrachat_200k';
/** First entry of Phi-3-mini-4k-instruct's finetune allow list (the notebook's ND40rs_v2 fails its own check). */
export const DEFAULT_COMPUTE_VM_SIZE = 'Standard_NC24ads_A100_v4';
export const DEFAULT_COMPUTE_NAME = 'ftflow-a100';
export const SEED_INSTANCE_TYPE = 'Standard_NC6s_v3';

/** Longest an endpoint may be kept alive after its smoke test (deployment.keepAliveMinutes). */
export const MAX_KEEP_ALIVE_MINUTES = 7 * 24 * 60;

/** Longest training budget (budget.maxTrainingMinutes): 30 days. */
export const MAX_TRAINING_BUDGET_MINUTES = 30 * 24 * 60;

/** Largest cost budget (budget.maxCost), US dollars: far above any single fine-tune, low enough to catch a typo. */
export const MAX_COST_BUDGET_USD = 1_000_000;
