import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jsonSchemaType, JsonSchemaError } from '../../../src/adapters/tools/json-schema-input.js';
import { annotationDefaults } from '../../../src/adapters/tools/mcp-tool.js';
import { applyOverrides } from '../../../src/adapters/tools/tool-policy.js';
import { McpServerConfig } from '../../../src/orchestrator/tool-config.js';
import { actionFacts } from '../../../src/orchestrator/tools/tool.js';

describe('JSON Schema input types (Ajv behind a zod type)', () => {
  const type = jsonSchemaType({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { n: { type: 'integer', minimum: 1 }, tag: { type: 'string' } }, required: ['n'], additionalProperties: false });

  it('accepts what fits and names the path and the rule of what does not', () => {
    expect(type.safeParse({ n: 2 }).success).toBe(true);
    const bad = type.safeParse({ n: 0, extra: true });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).sort()).toEqual([': must NOT have additional properties (extra)', 'n: must be >= 1']);
    expect(type.safeParse({}).error?.issues[0]?.message).toBe("must have required property 'n' (n)");
  });

  it('shows the schema unchanged (without its dialect) as JSON Schema', () => {
    expect(z.toJSONSchema(type)).toMatchObject({ type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'], additionalProperties: false });
  });

  it('refuses a schema Ajv cannot compile when the tool is built', () => {
    expect(() => jsonSchemaType({ type: 'objekt' })).toThrow(JsonSchemaError);
  });
});

describe('risk defaults and overrides', () => {
  const server = McpServerConfig.parse({ transport: 'stdio', command: 'x' });
  const listing = (annotations: Record<string, boolean> | undefined) => ({ name: 't', inputSchema: { type: 'object' as const }, ...(annotations ? { annotations } : {}) });

  it('MCP annotations: read-only reads, non-destructive writes, anything else deletes', () => {
    expect(annotationDefaults('s', server, listing({ readOnlyHint: true }))).toMatchObject({ action: { category: 's', operation: 'read' }, idempotent: true });
    expect(annotationDefaults('s', server, listing({ destructiveHint: false, idempotentHint: true }))).toMatchObject({ action: { operation: 'write' }, idempotent: true });
    expect(annotationDefaults('s', server, listing({ destructiveHint: true }))).toMatchObject({ action: { operation: 'delete' }, idempotent: false });
    expect(annotationDefaults('s', server, listing(undefined))).toMatchObject({ action: { operation: 'delete' }, idempotent: false });
  });

  it('config overrides win; environment, operation and resource can be read from each input', () => {
    const base = annotationDefaults('s', server, listing({ readOnlyHint: true }));
    const p = applyOverrides(base, { action: { category: 'deploy', environment: { fromInput: 'target.env' } }, idempotent: false, minRisk: 'medium' });
    expect(p).toMatchObject({ action: { category: 'deploy', operation: 'read' }, idempotent: false, minRisk: 'medium' });
    const env = p.action.environment as (i: Record<string, unknown>) => string | undefined;
    expect(env({ target: { env: 'production' } })).toBe('production');
    expect(env({})).toBeUndefined();
    // Risk per call: the operation and resource read from the input, judged by actionFacts.
    const sql = { action: applyOverrides(base, { action: { category: 'db', operation: { fromInput: 'verb' }, resource: { fromInput: 'table' } } }).action };
    expect(actionFacts(sql, { verb: 'delete', table: 'users' })).toMatchObject({ category: 'db', operation: 'delete', resource: 'users' });
    expect(actionFacts(sql, {})).toMatchObject({ operation: 'unknown' });
  });
});
