import { lexicographicSortSchema, printSchema } from 'graphql';
import { gatehouseSchema } from './schema.js';

/** The API contract as SDL, sorted so that it only changes when the API does (schema.graphql). */
export async function schemaText(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await gatehouseSchema()))}\n`;
}
