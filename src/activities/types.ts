// Inputs and results of the activities: plain data, no secrets. Workflows import these as types only.
import type { RunSpec } from '../runSpec/schema';
import type { RunNames } from '../runSpec/names';
import type { StagedDataset } from '../dataset/staged';
import type { LiveTraining, MetricsEntry } from '../azure/liveTraining';

/** stageDataset's result: defined with the staging code that produces it (src/dataset/staged.ts). */
export type { InvalidRowSummary, StagedDataset, StagedSplit } from '../dataset/staged';

export type ParameterValue = string | number | boolean;

export interface AuthResult {
  workspace: string;
  location: string;
  credentialKind: 'clientSecret' | 'default';
}

export interface ResolvedModel {
  registry: string;
  name: string;
  version: string;
  /** azureml://registries/<r>/models/<name>/versions/<v>, passed to the pipeline as mlflow_model_path. */
  assetId: string;
  finetuneComputeAllowList?: string[];
  inferenceComputeAllowList?: string[];
  modelSpecificDefaults?: Record<string, ParameterValue>;
  lifecycleDates: Record<string, string>;
  /** The sizes chosen for what the spec leaves unset (absent in runs from before resolveModel chose them). */
  sizes?: ChosenSizes;
}

/** resolveModel's choice of the sizes a spec leaves unset (src/runSpec/sizePicking.ts). */
export interface ChosenSizes {
  /** compute.vmSize, when the spec leaves it unset. */
  vmSize?: string;
  /** deployment.instanceType, when the spec leaves it unset. */
  instanceType?: string;
  /** What was chosen instead of the notebook's size, and why: the run's record and events show them. */
  warnings: string[];
}

/** The spec's compute with its VM size settled (given, chosen by resolveModel, or the notebook's). */
export type SizedCompute = RunSpec['compute'] & { vmSize: string };
/** The spec's deployment with its instance type settled. */
export type SizedDeployment = RunSpec['deployment'] & { instanceType: string };

export interface ValidateComputeInput {
  compute: SizedCompute;
  deployment: SizedDeployment;
  model: ResolvedModel;
  /**
   * A dry run (planFineTune): a missing cluster is not created (`wouldCreate` says it would be), and the
   * deployment's vCPU quota is checked too (a warning). Absent in the runs' own calls.
   */
  readOnly?: boolean;
}

export interface ValidatedCompute {
  name: string;
  vmSize: string;
  gpusPerNode: number;
  created: boolean;
  /** A dry run: the cluster does not exist and the run would create it. */
  wouldCreate?: boolean;
  warnings: string[];
}

export interface StageDatasetInput {
  dataset: RunSpec['dataset'];
  /**
   * A dry run (planFineTune): plan the splits and read each one's first rows as staging would, write
   * nothing; the splits carry `preview` (src/dataset/preview.ts). Absent in the runs' own calls.
   */
  readOnly?: boolean;
}

export interface SubmitPipelineInput {
  names: RunNames;
  spec: RunSpec;
  experimentName: string;
  model: ResolvedModel;
  compute: ValidatedCompute;
  data: StagedDataset;
}

export interface SubmittedJob {
  jobName: string;
  componentId: string;
  displayName: string;
  parameters: Record<string, string>;
  warnings: string[];
  /** Defaults the component does not declare, dropped: information, not something to act on. */
  notes?: string[];
  /** True when the job already existed (a retried or resumed run) and was adopted, not resubmitted. */
  adopted: boolean;
}

export interface JobOutcome {
  jobName: string;
  status: string;
  /** The job in Azure ML studio, when Azure named it. */
  studioUrl?: string;
  /** The training's last live figures and its bounded `metrics` entries (no history event of their own). */
  training?: LiveTraining;
  metricsLog?: MetricsEntry[];
}

/** What awaitPipeline heartbeats: the job's status and, while it trains, the live figures. */
export interface JobFollowDetails {
  status?: string;
  /** When the follower first saw the current status (ISO). */
  statusSince?: string;
  studioUrl?: string;
  training?: LiveTraining;
  metricsLog?: MetricsEntry[];
}

export interface CollectMetricsInput {
  jobName: string;
  experimentName: string;
}

export interface CollectedMetrics {
  metrics: Record<string, number>;
  runsSeen: number;
}

export interface RegisterModelInput {
  jobName: string;
  modelName: string;
  /**
   * Runs from before integer versions passed one derived from the run id; registerModel now chooses the
   * next integer itself and ignores it (a version the run registered then is still adopted, by its tag).
   */
  version?: string;
  description: string;
  runId: string;
}

export interface RegisteredModel {
  name: string;
  /** An integer ("3") for models registered since integer versions; older runs' versions were hex. */
  version: string;
  /** ARM id, what the deployment references. */
  id: string;
  adopted: boolean;
}

export interface DeployEndpointInput {
  runId: string;
  endpointName: string;
  deployment: SizedDeployment;
  modelId: string;
  modelName: string;
  inferenceComputeAllowList?: string[];
}

export interface DeployedEndpoint {
  endpointName: string;
  deploymentName: string;
  scoringUri: string;
  adopted: boolean;
}

export interface SmokeScoreInput {
  endpointName: string;
  deploymentName: string;
  sampleBlobPath: string;
  parameters: Record<string, ParameterValue>;
}

export interface SmokeScoreResult {
  promptPreview: string;
  replyPreview: string;
  replyChars: number;
  latencyMs: number;
}

export interface DeleteEndpointResult {
  endpointName: string;
  existed: boolean;
  deleted: boolean;
  /** What the endpoint was billed for (absent when it did not exist, and in results from before it was read). */
  billing?: EndpointBilling;
}

/** The endpoint's deployments, read before the deletion, and when the deletion was seen complete. */
export interface EndpointBilling {
  deployments: { name: string; instanceType: string; instances: number; createdAt: string }[];
  deletedAt: string;
  /** How deletedAt was read: by the deleting attempt, or (after a crash) by a later one, which finds it gone. */
  deletedAtSeen: 'when the deletion was seen complete' | 'by a later attempt';
}

export interface EstimateCostInput {
  /** The spec with its sizes settled (compute.vmSize, deployment.instanceType). */
  spec: RunSpec & { compute: SizedCompute; deployment: SizedDeployment };
  model: ResolvedModel;
  compute: ValidatedCompute;
  /** The staged data (or a dry run's preview of it): rows and bytes of the train and test slices. */
  data: StagedDataset;
  /** The workspace's region (authenticate's location): where prices are read. */
  location: string;
}

export interface MeasureCostInput {
  /** The run's job names to read, oldest first (earlier attempts of a resumed run, then the job it followed). */
  jobNames: string[];
  /** The cluster's size, for a job RunHistory does not give one for. */
  vmSize?: string;
  /** deleteEndpoint's result, when the run deployed. */
  endpoint?: DeleteEndpointResult;
  location: string;
}

/** The job a run submits, as far as the run spec and the registry decide it: what a dry run shows. */
export interface JobDescription {
  componentId: string;
  /** The notebook's display name of the job. */
  displayName: string;
  /** The merged training inputs, as the job's literal inputs. */
  parameters: Record<string, string>;
  /** What needs action. */
  warnings: string[];
  /** What needs no action (defaults the component does not declare, dropped). */
  notes: string[];
  /** What the cost estimate reads: epochs, nodes, max_steps and the rows a step takes per GPU. */
  training: { epochs: number; nodes: number; maxSteps: number; rowsPerStepPerGpu: number };
}

export interface DescribeJobInput {
  spec: RunSpec;
  model: ResolvedModel;
  compute: ValidatedCompute;
}

export interface TaggedEndpoint {
  endpointName: string;
  /** The run that created it (tag ftflow-run). */
  runId?: string;
  /** The Temporal namespace of that run (tag ftflow-namespace); absent on endpoints made before the tag. */
  namespace?: string;
  createdAt?: string;
  provisioningState?: string;
}

export interface RunState {
  runId: string;
  /** closed: completed, failed, cancelled, terminated, timed out or continued; not-found: no such run. */
  state: 'running' | 'closed' | 'not-found';
  /** Temporal's execution status name, e.g. TERMINATED. */
  status?: string;
  closedAt?: string;
}
