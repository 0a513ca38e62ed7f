import type { SecretProvider } from '../../domain/ports/secrets.js';

/**
 * Secrets from the environment: `{ "$secret": "DB_PASSWORD" }` reads `GATEHOUSE_SECRET_DB_PASSWORD`.
 * The prefix keeps an agent from naming any variable of the host's environment.
 */
export function createEnvSecrets(env: NodeJS.ProcessEnv = process.env, prefix = 'GATEHOUSE_SECRET_'): SecretProvider {
  return {
    get: async (name) => (/^[A-Za-z0-9_]{1,100}$/.test(name) ? env[`${prefix}${name}`] : undefined),
  };
}
