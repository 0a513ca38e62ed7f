import type { SecretProvider } from '../../domain/ports/secrets.js';
import { ConfigError } from '../../orchestrator/config.js';
import type { HttpToolConfig, McpServerConfig } from '../../orchestrator/tool-config.js';
import type { ToolRegistry } from '../../orchestrator/tools/tool.js';
import { httpToolFromConfig } from './http-config-tool.js';
import { McpToolSource, type SourceLog } from './mcp-source.js';

/** The tool sources a config started: close them at shutdown (stdio children end). */
export interface ConfiguredTools {
  readonly sources: readonly McpToolSource[];
  close(): Promise<void>;
}

/**
 * Registers the `tools:` of gatehouse.yaml and connects its `mcpServers:` (in parallel, each
 * bounded by its connect timeout). A bad HTTP tool entry throws a ConfigError naming its path; an
 * MCP server that is down does not throw: its tools stay unavailable while it is retried.
 */
export async function startConfiguredTools(
  config: { readonly tools: readonly HttpToolConfig[]; readonly mcpServers: Readonly<Record<string, McpServerConfig>> },
  registry: ToolRegistry,
  secrets: SecretProvider,
  log: SourceLog,
): Promise<ConfiguredTools> {
  config.tools.forEach((entry, i) => {
    try {
      registry.register(httpToolFromConfig(entry, secrets));
    } catch (error) {
      throw new ConfigError(`tools.${i} (${entry.name}): ${(error as Error).message}`);
    }
  });
  const sources = Object.entries(config.mcpServers).map(([name, server]) => {
    try {
      return new McpToolSource(name, server, secrets, registry, log);
    } catch (error) {
      throw new ConfigError(`mcpServers.${name}: ${(error as Error).message}`);
    }
  });
  await Promise.all(sources.map((s) => s.start()));
  return { sources, close: async () => void (await Promise.all(sources.map((s) => s.close()))) };
}
