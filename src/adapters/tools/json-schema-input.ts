import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { z } from 'zod';

/** One Ajv for every configured schema: compiled once per tool, strict mode off (MCP servers send extra keywords). */
const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });

/** A schema that Ajv cannot compile: the message says why; callers prefix the config path. */
export class JsonSchemaError extends Error {
  override name = 'JsonSchemaError';
}

/**
 * A zod type that validates with Ajv against a JSON Schema, so tools from config and MCP servers
 * go through the same `tool.input.safeParse` at startRun and at call time as TypeScript tools.
 * The schema travels as zod metadata, so `z.toJSONSchema` (GraphQL `tools`) shows it unchanged.
 * A bad schema throws here, when the tool is built, not at its first call.
 */
export function jsonSchemaType(schema: Record<string, unknown>): z.ZodType<Record<string, unknown>> {
  const validate = compileSchema(schema);
  // z.unknown(), not z.custom: it converts to JSON Schema as `{}`, which the metadata below fills in.
  const type = z.unknown().superRefine((value, ctx) => {
    if (validate(value)) return;
    for (const e of validate.errors ?? []) {
      const path = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
      // Name the property Ajv's message leaves out (a missing one, an unexpected one).
      const params = e.params as { missingProperty?: string; additionalProperty?: string };
      const named = e.keyword === 'required' ? ` (${String(params.missingProperty)})` : e.keyword === 'additionalProperties' ? ` (${String(params.additionalProperty)})` : '';
      ctx.addIssue({ code: 'custom', path, message: `${e.message ?? 'invalid'}${named}` });
    }
  });
  return type.meta(withoutDialect(schema)) as unknown as z.ZodType<Record<string, unknown>>;
}

function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  try {
    return ajv.compile(withoutDialect(schema));
  } catch (error) {
    throw new JsonSchemaError(`not a valid JSON Schema: ${(error as Error).message}`);
  }
}

/** Ajv2020 refuses other `$schema` dialects it has not loaded; the keywords tools use are the same. */
function withoutDialect(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}
