// A real headless Chromium for the dashboard's tests: Debian's `chromium` (scripts/setup.sh installs it
// as root where missing) or FTFLOW_CHROMIUM, driven by playwright-core, which downloads no browser.
// Screenshots go to .data/ui-screenshots/.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { PROJECT_ROOT } from '../../devstack/stack/paths';

export const SCREENSHOT_DIR = path.join(PROJECT_ROOT, '.data', 'ui-screenshots');

/** The Chromium to drive: FTFLOW_CHROMIUM, else chromium or chromium-browser on the PATH (where set-up looks). */
export function chromiumPath(): string {
  const given = process.env.FTFLOW_CHROMIUM;
  if (given) {
    if (!fs.existsSync(given)) throw new Error(`FTFLOW_CHROMIUM=${given} does not exist`);
    return given;
  }
  for (const name of ['chromium', 'chromium-browser']) {
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      const candidate = path.join(dir, name);
      if (dir && fs.existsSync(candidate)) return candidate;
    }
  }
  throw new Error(
    "no Chromium for the dashboard tests: run `make setup` as root (it installs Debian's chromium package), " +
      'or `apt-get install chromium`, or set FTFLOW_CHROMIUM to a Chromium binary',
  );
}

/** "Chromium 156.0.8078.114 built on Debian GNU/Linux 12 (bookworm)". */
export function chromiumVersion(executable: string): string {
  return execFileSync(executable, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Chromium refuses to start as root with its sandbox on (CI runs as root).
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}
