// `ftflow models`: the registry's fine-tunable chat-completion models, each with its version, its
// finetune retirement date (if the registry publishes one) and its allow lists, read through the
// product's registry client (src/azure/registry.ts), in either of the registry's forms (tags or
// system_metadata). Read-only.
import type { Command } from 'commander';
import { RunFailure } from '../../azure/errors';
import { fineTunableModels, type RegistryModelSummary } from '../../azure/modelTags';
import { registryClientFromEnv } from '../../azure/registry';
import { ConfigError } from '../../config/errors';
import type { CliContext } from '../context';
import { CliInputError, EXIT } from '../exitCodes';
import { table } from '../format';

type Act = (handler: (...args: unknown[]) => Promise<number>) => (...args: unknown[]) => Promise<void>;

interface ModelsFlags {
  registry: string;
  task: string;
  all?: boolean;
}

/** What `--json` prints. */
export interface ModelsReport {
  registry: string;
  task: string;
  /** When the retirement dates were judged (ISO time). */
  checkedAt: string;
  models: RegistryModelSummary[];
}

const shortList = (list: string[] | undefined) =>
  list === undefined ? '(none published)' : list.map((s) => s.replace(/^Standard_/, '')).join(', ');

/** "current (preview)", "retires 2027-01-31", "retired 2025-08-30", "retired (archived)". */
function stateOf(m: RegistryModelSummary): string {
  const date = m.finetuneRetirementDate?.slice(0, 10);
  if (m.retired)
    return [`retired${date ? ` ${date}` : ''}`, m.isArchived ? '(archived)' : ''].filter(Boolean).join(' ');
  if (date) return `retires ${date}`;
  return `current${m.preview ? ' (preview)' : ''}`;
}

function reportLines(report: ModelsReport, all: boolean): string[] {
  const what = `fine-tunable ${report.task} model${report.models.length === 1 ? '' : 's'}`;
  if (report.models.length === 0)
    return [
      `registry ${report.registry}: no ${all ? '' : 'current '}${what}${all ? '' : ' (--all lists retired ones too)'}`,
    ];
  const rows = report.models.map((m) => [m.name, m.version, stateOf(m), m.allowListSource ?? '-']);
  const lines = [
    `registry ${report.registry}: ${report.models.length} ${all ? '' : 'current '}${what} (${report.checkedAt.slice(0, 10)})` +
      (all ? '; retired ones included, archived ones are not listed' : ''),
    ...table(['MODEL', 'VERSION', 'STATE', 'ALLOW LISTS FROM'], rows),
  ];
  for (const m of report.models) {
    lines.push('', `${m.name} v${m.version}`);
    lines.push(`  finetune   ${shortList(m.finetuneComputeAllowList)}`);
    lines.push(`  inference  ${shortList(m.inferenceComputeAllowList)}`);
  }
  return lines;
}

export function registerModelCommands(program: Command, ctx: () => CliContext, act: Act): void {
  program
    .command('models')
    .description(
      "the registry's fine-tunable chat-completion models: version, retirement date and allow lists (reads Azure, not Temporal)",
    )
    .option('--registry <name>', 'the registry to list', 'azureml')
    .option('--task <task>', 'the fine-tuning task', 'chat-completion')
    .option('--all', 'also the ones past their finetune retirement date (archived models are not listed)')
    .addHelpText(
      'after',
      '\nReads the Azure settings the worker reads (AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP, AZUREML_WORKSPACE_NAME,\n' +
        'the credential, FTFLOW_REGISTRY_DISCOVERY_URL). Exit 0 listed, 2 bad input (unknown registry, missing setting), 8 Azure failed.',
    )
    .action(
      act(async (flags) => {
        const c = ctx();
        const f = flags as ModelsFlags;
        const at = Date.now();
        let models: RegistryModelSummary[];
        try {
          const registry = registryClientFromEnv(c.env);
          models = fineTunableModels(await registry.listModels(f.registry, { fresh: true }), at, {
            task: f.task,
            all: f.all === true,
          });
        } catch (err) {
          if (err instanceof ConfigError) throw new CliInputError(err.message);
          if (err instanceof RunFailure && err.code === 'RegistryNotFound')
            throw new CliInputError(
              `registry ${f.registry} does not exist: check --registry (the foundation models are in "azureml")`,
            );
          if (err instanceof RunFailure && err.kind === 'validation') throw new CliInputError(err.message);
          throw err;
        }
        const report: ModelsReport = {
          registry: f.registry,
          task: f.task,
          checkedAt: new Date(at).toISOString(),
          models,
        };
        c.print(report, () => reportLines(report, f.all === true));
        return EXIT.ok;
      }),
    );
}
