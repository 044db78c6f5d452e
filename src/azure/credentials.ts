// Builds the TokenCredential: a service principal when one is configured, else DefaultAzureCredential.
import { ClientSecretCredential, DefaultAzureCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/core-auth';
import { clientSecretFromEnv, type AzureConfig } from './config';

export const ARM_SCOPE = 'https://management.azure.com/.default';

const MICROSOFT_AUTHORITIES = ['login.microsoftonline.com', 'login.chinacloudapi.cn', 'login.microsoftonline.us'];

export function createCredential(config: AzureConfig, env: NodeJS.ProcessEnv = process.env): TokenCredential {
  if (config.credential.kind === 'clientSecret') {
    const secret = clientSecretFromEnv(env);
    if (!secret) throw new Error('AZURE_CLIENT_SECRET disappeared from the environment');
    const { tenantId, clientId, authorityHost } = config.credential;
    const customAuthority =
      authorityHost !== undefined && !MICROSOFT_AUTHORITIES.some((h) => authorityHost.includes(h));
    return new ClientSecretCredential(tenantId, clientId, secret, {
      authorityHost,
      // A non-Microsoft authority (the local emulator) cannot be validated against Entra's instance list.
      disableInstanceDiscovery: customAuthority,
    });
  }
  return new DefaultAzureCredential();
}
