// The live training figures from MLflow's runs (src/azure/liveTraining.ts): which run trains, step of
// total from the epoch, the ETA from the step rate, GPU time, and the bounded `metrics` entries.
import {
  appendEntry,
  etaOf,
  liveFromRuns,
  metricsLine,
  shortDuration,
  trainingRun,
  type LiveTraining,
  type MlflowRun,
} from '../../src/azure/liveTraining';

const START = Date.parse('2026-12-06T01:00:00Z');

function runs(step: number, epoch: number, loggedAt: number, extra: Partial<MlflowRun['info']> = {}): MlflowRun[] {
  return [
    { info: { run_id: 'job-1', status: 'RUNNING', start_time: START - 60_000 }, data: { metrics: [] } },
    {
      info: { run_id: 'job-1_finetune', status: 'RUNNING', start_time: START, ...extra },
      data: {
        metrics: [
          { key: 'loss', value: 1.42, step, timestamp: loggedAt },
          { key: 'learning_rate', value: 4.9e-6, step, timestamp: loggedAt },
          { key: 'epoch', value: epoch, step, timestamp: loggedAt },
          { key: 'eval_loss', value: 1.51, step: 300, timestamp: loggedAt - 1000 },
        ],
        params: [
          { key: 'num_train_epochs', value: '3' },
          { key: 'number_of_gpu_to_use_finetuning', value: '2' },
          { key: 'num_nodes_finetune', value: '1' },
        ],
      },
    },
  ];
}

test('the training run is the one logging epoch; before that the root run', () => {
  expect(trainingRun(runs(10, 0.03, START + 1000), 'job-1')?.info.run_id).toBe('job-1_finetune');
  const bare: MlflowRun[] = [{ info: { run_id: 'job-1' } }];
  expect(trainingRun(bare, 'job-1')?.info.run_id).toBe('job-1');
  expect(trainingRun([], 'job-1')).toBeUndefined();
});

test('step of total from the epoch and the epochs the run was given; losses, rate, ETA and GPU time', () => {
  // Step 120 at epoch 0.4 of 3: 300 steps per epoch, 900 in all; 120 steps in 240 s: 0.5 steps/s.
  const loggedAt = START + 240_000;
  const live = liveFromRuns(runs(120, 0.4, loggedAt), 'job-1', loggedAt + 10_000);
  expect(live).toMatchObject({
    step: 120,
    totalSteps: 900,
    epoch: 0.4,
    totalEpochs: 3,
    trainLoss: 1.42,
    evalLoss: 1.51,
    learningRate: 4.9e-6,
    stepsPerSecond: 0.5,
    // 780 steps left at 0.5/s = 1560 s from the logged step, 10 s of which have passed.
    etaSeconds: 1550,
    elapsedSeconds: 250,
    gpuSeconds: 500,
    trainingStartedAt: new Date(START).toISOString(),
  });
});

test('a finished run counts its GPU time to its end, not to now', () => {
  const live = liveFromRuns(runs(900, 3, START + 1_800_000, { end_time: START + 1_800_000 }), 'job-1', START + 9e6);
  expect(live.elapsedSeconds).toBe(1800);
  expect(live.etaSeconds).toBe(0);
});

test('no runs, or runs with no metrics yet: only the read time', () => {
  expect(liveFromRuns([], 'job-1', START)).toEqual({ readAt: new Date(START).toISOString() });
  const live = liveFromRuns([{ info: { run_id: 'job-1', start_time: START } }], 'job-1', START + 5000);
  expect(live.step).toBeUndefined();
  expect(live.etaSeconds).toBeUndefined();
  expect(live.elapsedSeconds).toBe(5);
});

test('etaOf: no rate without time or steps; no ETA without a total', () => {
  expect(etaOf({ start: START, step: 0, loggedAt: START + 1000, now: START + 1000, totalSteps: 10 })).toEqual({});
  expect(etaOf({ start: START, step: 5, loggedAt: START, now: START, totalSteps: 10 })).toEqual({});
  expect(etaOf({ start: START, step: 5, loggedAt: START + 10_000, now: START + 10_000 })).toEqual({
    stepsPerSecond: 0.5,
  });
  expect(etaOf({ start: START, step: 5, loggedAt: START + 10_000, now: START + 10_000, totalSteps: 10 })).toEqual({
    stepsPerSecond: 0.5,
    etaSeconds: 10,
  });
});

test('metricsLine reads as the issue asks: "step 120/900: train_loss 1.42"', () => {
  expect(metricsLine({ step: 120, totalSteps: 900, trainLoss: 1.42 })).toBe('step 120/900: train_loss 1.42');
  expect(metricsLine({ step: 300, trainLoss: 1.4, evalLoss: 1.5123 })).toBe(
    'step 300: train_loss 1.4, eval_loss 1.5123',
  );
  expect(metricsLine({ step: 7 })).toBe('step 7');
});

test('entries: one per new step, none without a loss, and never more than the bound however long the run', () => {
  const at = (step: number, trainLoss?: number): LiveTraining => ({
    readAt: new Date(START + step * 1000).toISOString(),
    step,
    totalSteps: 10_000,
    ...(trainLoss !== undefined ? { trainLoss } : {}),
  });
  let entries = appendEntry([], at(10, 1.7));
  entries = appendEntry(entries, at(10, 1.6));
  entries = appendEntry(entries, at(20));
  expect(entries.map((e) => e.step)).toEqual([10]);
  for (let step = 20; step <= 10_000; step += 10) entries = appendEntry(entries, at(step, 2 - step / 10_000), 40);
  expect(entries.length).toBeLessThanOrEqual(40);
  expect(entries[0].step).toBe(10);
  expect(entries[entries.length - 1].step).toBe(10_000);
  // Spread over the whole run, oldest first.
  expect([...entries].sort((a, b) => a.step - b.step)).toEqual(entries);
  expect(entries.some((e) => e.step > 1000 && e.step < 9000)).toBe(true);
});

test('shortDuration', () => {
  expect(shortDuration(12)).toBe('12s');
  expect(shortDuration(250)).toBe('4m 10s');
  expect(shortDuration(3900)).toBe('1h 05m');
});
