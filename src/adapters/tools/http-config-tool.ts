import type { SecretProvider } from '../../domain/ports/secrets.js';
import type { HttpToolConfig } from '../../orchestrator/tool-config.js';
import { httpTool } from '../../orchestrator/tools/http-tool.js';
import type { ToolDefinition } from '../../orchestrator/tools/tool.js';
import { jsonSchemaType } from './json-schema-input.js';
import { applyOverrides } from './tool-policy.js';

/** What a method does when config does not classify it: GET reads, DELETE deletes, the rest writes. */
const OPERATION_OF_METHOD: Record<HttpToolConfig['method'], string> = { GET: 'read', POST: 'write', PUT: 'write', PATCH: 'write', DELETE: 'delete' };

/**
 * A `tools:` entry of gatehouse.yaml as a tool: the input is the request body (or query string for
 * GET), validated by its JSON Schema with Ajv at startRun and at the call; `$secret` header values
 * are resolved at each call only. A bad schema throws, and the caller names the config path.
 */
export function httpToolFromConfig(config: HttpToolConfig, secrets: SecretProvider): ToolDefinition {
  const plain: Record<string, string> = {};
  const secretHeaders: Record<string, { secret: string; prefix?: string }> = {};
  for (const [header, value] of Object.entries(config.headers)) {
    if (typeof value === 'string') plain[header] = value;
    else secretHeaders[header] = { secret: value.$secret, ...(value.prefix ? { prefix: value.prefix } : {}) };
  }
  const policy = applyOverrides(
    {
      description: config.description,
      domain: 'http',
      action: { category: 'http', operation: OPERATION_OF_METHOD[config.method] },
      idempotent: config.method === 'GET' || config.method === 'PUT' || config.method === 'DELETE',
      timeoutMs: 30_000,
    },
    config,
  );
  return httpTool({
    name: config.name,
    ...policy,
    input: jsonSchemaType(config.input),
    ...(config.output ? { output: jsonSchemaType(config.output) } : {}),
    url: config.url,
    method: config.method,
    body: 'input',
    headers: plain,
    secretHeaders,
    secrets,
  });
}
