// The activities of the fineTune workflow, one file per step of docs/design.md's table, built from
// injected clients so tests can point them at the emulator or at fakes.
import type { ActivityDeps } from './deps';
import { makeAuthenticate } from './authenticate';
import { makeResolveModel } from './resolveModel';
import { makeValidateCompute } from './validateCompute';
import { makeStageDataset } from './stageDataset';
import { makeSubmitPipeline } from './submitPipeline';
import { makeAwaitPipeline } from './awaitPipeline';
import { makeCancelPipeline } from './cancelPipeline';
import { makeCollectMetrics } from './collectMetrics';
import { makeRegisterModel } from './registerModel';
import { makeDeployEndpoint } from './deployEndpoint';
import { makeSmokeScore } from './smokeScore';
import { makeDeleteEndpoint } from './deleteEndpoint';
import { makeFindActiveRun } from './findActiveRun';
import { makeListTaggedEndpoints } from './listTaggedEndpoints';
import { makeDescribeRuns } from './describeRuns';
import { makeEstimateCost } from './estimateCost';
import { makeMeasureCost } from './measureCost';
import { makeDescribeJob } from './describeJob';
import { makeDeliverWebhook, makeWebhookAudience, makeWebhookTargets } from './webhooks';

export function createActivities(deps: ActivityDeps) {
  return {
    authenticate: makeAuthenticate(deps),
    resolveModel: makeResolveModel(deps),
    validateCompute: makeValidateCompute(deps),
    stageDataset: makeStageDataset(deps),
    submitPipeline: makeSubmitPipeline(deps),
    awaitPipeline: makeAwaitPipeline(deps),
    cancelPipeline: makeCancelPipeline(deps),
    collectMetrics: makeCollectMetrics(deps),
    registerModel: makeRegisterModel(deps),
    deployEndpoint: makeDeployEndpoint(deps),
    smokeScore: makeSmokeScore(deps),
    deleteEndpoint: makeDeleteEndpoint(deps),
    // Retraining schedules: defer to a running run that trains the same thing.
    findActiveRun: makeFindActiveRun(deps),
    // The janitor: endpoints we created, and whether their runs still run (deleteEndpoint does the rest).
    listTaggedEndpoints: makeListTaggedEndpoints(deps),
    describeRuns: makeDescribeRuns(deps),
    // What a run costs: the estimate before its job, the cost measured after it (src/cost/).
    estimateCost: makeEstimateCost(deps),
    measureCost: makeMeasureCost(deps),
    // A dry run (planFineTune): the job a run would submit.
    describeJob: makeDescribeJob(deps),
    // Webhooks: who listens to a run, which endpoints hear an event, one delivery attempt.
    webhookAudience: makeWebhookAudience(deps),
    webhookTargets: makeWebhookTargets(deps),
    deliverWebhook: makeDeliverWebhook(deps),
  };
}

export type FineTuneActivities = ReturnType<typeof createActivities>;
export { createDeps, type ActivityDeps, type DepsOptions } from './deps';
