// Step 2. Resolves the foundation model in its registry (label latest, or a pinned version) and reads what
// the notebook reads, from the tags or from system_metadata (src/azure/modelTags.ts). Read-only, so
// idempotent; an unknown model is refused, and so is a retired one (archived, or its finetune retirement
// date has come), naming the registry's current fine-tunable models to use instead. Given the run's pipeline
// component and training parameters, it also reads the component and checks them against its inputs (with
// this model's defaults), so a bad `training.*` value fails the run here, before data is staged or a cluster
// created. Given the spec's compute and deployment, it chooses the sizes the spec leaves unset
// (src/runSpec/sizePicking.ts) from the region's VM sizes and free quota: reads only.
import type { ActivityDeps } from './deps';
import type { ChosenSizes, ResolvedModel } from './types';
import type { RunSpec } from '../runSpec/schema';
import { classified, RunFailure } from '../azure/errors';
import { fineTunableModels, finetuneRetiredAt, finetuneRetirementDate, readModelTags } from '../azure/modelTags';
import { deploymentVcpus, pickSize, type RegionSize } from '../runSpec/sizePicking';
import { trainingInputs } from './trainingInputs';

/** What resolveModel checks besides the model (absent in runs scheduled before the check existed). */
export type TrainingCheck = Pick<RunSpec, 'pipelineComponent' | 'training'> & {
  /** The spec's compute: a size is chosen when vmSize is unset (absent in runs from before sizes were chosen). */
  compute?: { vmSize?: string; maxNodes: number };
  /** The spec's deployment: an instance type is chosen when instanceType is unset. */
  deployment?: { instanceType?: string; instanceCount: number };
};

/** How long a refusal waits for the registry's list of current models before it refuses without it. */
const ALTERNATIVES_TIMEOUT_MS = 20_000;

export function makeResolveModel(deps: ActivityDeps) {
  return async function resolveModel(model: RunSpec['model'], check?: TrainingCheck): Promise<ResolvedModel> {
    return classified('resolveModel', async () => {
      const at = Date.now();
      let asset;
      try {
        asset = await deps.registry.get(model.registry, 'models', model.name, model.version);
      } catch (err) {
        // Every version archived ("latest" finds none): the same refusal, with what to use instead.
        if (err instanceof RunFailure && err.code === 'ModelRetired')
          throw new RunFailure(err.kind, `${err.message}. ${await useInstead(deps, model, at)}`, err.code);
        throw err;
      }
      const tags = readModelTags(asset.tags, asset.properties, asset.systemMetadata);
      const retired = finetuneRetiredAt(tags, at);
      if (asset.isArchived || retired) {
        const date = finetuneRetirementDate(tags);
        const state = [asset.isArchived ? 'archived' : '', retired ? 'retired' : ''].filter(Boolean).join(' and ');
        throw new RunFailure(
          'validation',
          `model ${asset.name} version ${asset.version} in registry ${model.registry} is ${state}` +
            `${date !== undefined ? ` (fine-tuning retired on ${date.slice(0, 10)})` : ''}: fine-tuning it is no longer supported. ` +
            `Choose a current model in model.name. ${await useInstead(deps, model, at)}`,
          'ModelRetired',
        );
      }
      if (check)
        await trainingInputs(deps, model.registry, check.pipelineComponent, check.training, tags.modelSpecificDefaults);
      const resolved: ResolvedModel = {
        registry: model.registry,
        name: asset.name,
        version: asset.version,
        assetId: asset.assetId,
        finetuneComputeAllowList: tags.finetuneComputeAllowList,
        inferenceComputeAllowList: tags.inferenceComputeAllowList,
        modelSpecificDefaults: tags.modelSpecificDefaults,
        lifecycleDates: tags.lifecycleDates,
      };
      if (check?.compute || check?.deployment) resolved.sizes = await chooseSizes(deps, resolved, check, at);
      return resolved;
    });
  };
}

/** "The registry's fine-tunable chat-completion models are: Phi-4 (version 8)", from the registry itself. */
async function useInstead(deps: ActivityDeps, model: RunSpec['model'], at: number): Promise<string> {
  let names: string[];
  try {
    const assets = await deps.registry.listModels(model.registry, {
      signal: AbortSignal.timeout(ALTERNATIVES_TIMEOUT_MS),
    });
    names = fineTunableModels(assets, at)
      .filter((m) => m.name !== model.name)
      .map((m) => `${m.name} (version ${m.version}${m.preview ? ', preview' : ''})`);
  } catch (err) {
    return `Its current models could not be listed (${(err as Error).message}); \`ftflow models\` lists them`;
  }
  if (names.length === 0)
    return `Registry ${model.registry} has no current fine-tunable chat-completion model (\`ftflow models\` lists them)`;
  return `Registry ${model.registry}'s current fine-tunable chat-completion model${names.length > 1 ? 's are' : ' is'}: ${names.join(', ')}`;
}

/** The sizes the spec leaves unset, chosen from the model's allow lists, the region's sizes and free quota. */
async function chooseSizes(
  deps: ActivityDeps,
  model: ResolvedModel,
  check: TrainingCheck,
  at: number,
): Promise<ChosenSizes> {
  const chosen: ChosenSizes = { warnings: [] };
  const unsetCompute = check.compute !== undefined && check.compute.vmSize === undefined;
  const unsetInstance = check.deployment !== undefined && check.deployment.instanceType === undefined;
  if (!unsetCompute && !unsetInstance) return chosen;

  const location = (await deps.workspace()).location ?? 'eastus';
  const sizes = await deps.arm.virtualMachineSizes.list(location);
  const region: RegionSize[] = (sizes.value ?? []).flatMap((s) =>
    s.name ? [{ name: s.name, vCPUs: s.vCPUs, gpus: s.gpus, family: s.family }] : [],
  );
  const free = new Map<string, number>();
  for await (const usage of deps.arm.usages.list(location)) {
    const left = Math.max(0, (usage.limit ?? 0) - (usage.currentValue ?? 0));
    for (const name of [usage.name?.value, usage.name?.localizedValue]) if (name) free.set(familyKey(name), left);
  }
  const common = {
    model: `${model.name} v${model.version}`,
    at,
    region,
    freeVcpus: (family: string) => free.get(familyKey(family)),
  };
  if (unsetCompute) {
    const pick = pickSize({
      ...common,
      use: 'finetune',
      allowList: model.finetuneComputeAllowList,
      vcpusNeeded: (vCPUs) => vCPUs,
    });
    chosen.vmSize = pick.size;
    if (pick.warning) chosen.warnings.push(pick.warning);
  }
  if (unsetInstance) {
    const instances = check.deployment?.instanceCount ?? 1;
    const pick = pickSize({
      ...common,
      use: 'inference',
      allowList: model.inferenceComputeAllowList,
      vcpusNeeded: (vCPUs) => deploymentVcpus(vCPUs, instances),
    });
    chosen.instanceType = pick.size;
    if (pick.warning) chosen.warnings.push(pick.warning);
  }
  return chosen;
}

/**
 * A quota family's key, whichever way the usage names it: the family as the VM size list has it
 * ("StandardNCADSA100v4Family") or the usage's text ("Standard NCADSA100v4 Family Cluster Dedicated vCPUs").
 */
function familyKey(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .replace(/clusterdedicatedvcpus$/, '');
}
