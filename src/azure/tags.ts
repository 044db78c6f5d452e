// The tags finetune-flow sets on the Azure objects it creates, in one place, so the steps that create
// them (submitPipeline, registerModel, deployEndpoint) and the code that finds them again (the job
// watcher's Jobs_List filter, the janitor's listTaggedEndpoints) agree on every key and value.

/** On every pipeline job, registered model version, endpoint and deployment: the run id that made it. */
export const RUN_TAG = 'ftflow-run';
/** On endpoints: the Temporal namespace of that run (the janitor leaves other namespaces' endpoints alone). */
export const NAMESPACE_TAG = 'ftflow-namespace';
/** On endpoints: who made it, always CREATED_BY; the janitor looks only at endpoints carrying it. */
export const CREATED_BY_TAG = 'ftflow-created-by';
export const CREATED_BY = 'finetune-flow';
