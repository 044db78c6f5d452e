// A setting the operator gave (an environment variable, a config file) that cannot be used; the message
// names the setting and what it must be. Thrown by the Azure settings (src/azure/config.ts) and the
// dataset source settings (src/dataset/sourceSettings.ts), before anything connects.
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
