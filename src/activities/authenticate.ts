// Step 1. Gets an ARM token and reads the workspace, so a missing credential or workspace fails the run
// at once with a clear message. Idempotent (reads only); auth errors are non-retryable.
import type { ActivityDeps } from './deps';
import type { AuthResult } from './types';
import { ARM_SCOPE } from '../azure/credentials';
import { classified, RunFailure } from '../azure/errors';

export function makeAuthenticate(deps: ActivityDeps) {
  return async function authenticate(): Promise<AuthResult> {
    return classified('authenticate', async () => {
      let token;
      try {
        token = await deps.credential.getToken(ARM_SCOPE);
      } catch (err) {
        throw new RunFailure(
          'auth',
          `no credential could get a token for ${ARM_SCOPE}: ${(err as Error).message}. Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or sign in with \`az login\``,
          'NoCredential',
        );
      }
      if (!token) throw new RunFailure('auth', `the credential returned no token for ${ARM_SCOPE}`, 'NoCredential');
      const ws = await deps.workspace();
      return {
        workspace: ws.name ?? deps.config.workspace,
        location: ws.location ?? 'unknown',
        credentialKind: deps.config.credential.kind,
      };
    });
  };
}
