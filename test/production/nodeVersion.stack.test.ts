// One supported Node LTS everywhere: the production image, package.json's engines, the version set-up
// pins for machines whose node is older, and the node this very test run uses.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../devstack/stack/paths';

const read = (file: string): string => fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
const major = (version: string): number => Number(/^v?(\d+)/.exec(version)?.[1] ?? NaN);

const imageNode = /^ARG NODE_VERSION=(\d+)$/m.exec(read('Dockerfile'))?.[1] ?? '';
const pinnedNode = /^NODE_PIN=(\S+)$/m.exec(read('scripts/setup.sh'))?.[1] ?? '';
const minimum = /^NODE_MIN_MAJOR=(\d+)$/m.exec(read('scripts/setup.sh'))?.[1] ?? '';
const engines = (JSON.parse(read('package.json')) as { engines?: { node?: string } }).engines?.node ?? '';

test('the production image runs Node 24 LTS on Debian bookworm', () => {
  expect(imageNode).toBe('24');
  expect(read('Dockerfile')).toMatch(/^FROM node:\$\{NODE_VERSION\}-bookworm-slim AS runtime$/m);
});

test('set-up pins the same major as the image, and engines asks for what set-up accepts', () => {
  expect(major(pinnedNode)).toBe(Number(imageNode));
  expect(engines).toBe(`>=${minimum}`);
  expect(Number(minimum)).toBeGreaterThanOrEqual(22);
});

test('this test run itself runs on a supported node (make puts .tools/bin first on PATH)', () => {
  expect(major(process.version)).toBeGreaterThanOrEqual(Number(minimum));
});
