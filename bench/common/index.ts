// Shared helpers of the benches (bench/<name>/): tables, the JSON result line and bench/results files,
// /proc sampling of a process, order statistics, machine description and command-line options.
export { fmt, formatTable, markdownTable, type Cell } from './table';
export { parseResultLine, reportResult, RESULTS_DIR, writeResultFile, type ResultHeader } from './results';
export { describeMachine, machineInfo, type MachineInfo } from './machine';
export { ProcSampler, readProc, type ProcSample, type ProcSummary } from './procSampler';
export { median, percentile, ratio, round } from './stats';
export { listArg, numberArg, parseBenchArgs, wordsArg, type BenchArgs } from './args';
export {
  activityResult,
  activityTimings,
  countActions,
  eventTimeMs,
  workflowTaskRetries,
  workflowTasks,
  type ActionCounts,
  type ActivityTiming,
} from './history';
export { diffTotals, scrapeCounter, type MetricTotals } from './serverMetrics';
export { startBenchWorker, type BenchWorker } from './workerProcess';
export { startBenchApi, type BenchApi } from './apiProcess';
export {
  emulatorAdmin,
  type EmulatorJob,
  type EmulatorLifetime,
  type RequestCounts,
  type EmulatorRequest,
  type EmulatorResources,
  type ThrottleStats,
} from './emulatorAdmin';
export { runBench } from './run';
