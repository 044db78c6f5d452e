// Run right after tsc (`node dist/cli/stampBuild.js`): records the commit dist/ was built from in
// dist/cli/build-info.json, for `ftflow --version` in an installed package, where there is no .git.
// FTFLOW_BUILD_COMMIT names the commit instead (builds from a copy without .git, e.g. an image).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILD_INFO_FILE, gitBuildInfo, type BuildInfo } from './version';

function buildInfo(): BuildInfo {
  const given = process.env.FTFLOW_BUILD_COMMIT?.trim().toLowerCase();
  if (given === undefined || given === '') return gitBuildInfo() ?? { commit: null, dirty: false };
  if (!/^[0-9a-f]{4,40}$/.test(given)) {
    process.stderr.write(`build: FTFLOW_BUILD_COMMIT=${given} is not a commit id (4 to 40 hex digits)\n`);
    process.exit(2);
  }
  return { commit: given.slice(0, 7), dirty: false };
}

const info = buildInfo();
fs.writeFileSync(BUILD_INFO_FILE, JSON.stringify(info) + '\n');
process.stdout.write(
  `build: ${path.relative(process.cwd(), BUILD_INFO_FILE) || BUILD_INFO_FILE} records commit ` +
    `${info.commit ? `${info.commit}${info.dirty ? '-dirty' : ''}` : 'unknown'}\n`,
);
