import { type ClassType, Field, Int, ObjectType } from 'type-graphql';
import { ValidationError } from '../../domain/errors.js';

@ObjectType({ description: 'Relay page information.' })
export class PageInfo {
  @Field(() => String, { nullable: true }) endCursor?: string;
  @Field() hasNextPage!: boolean;
}

/** A Relay-style connection type of `Node`: edges with opaque cursors, page info, total count. */
export function Connection<Node extends object>(NodeClass: ClassType<Node>) {
  @ObjectType(`${NodeClass.name}Edge`)
  class Edge {
    @Field() cursor!: string;
    @Field(() => NodeClass) node!: Node;
  }

  @ObjectType()
  abstract class ConnectionClass {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    @Field(() => Int, { nullable: true, description: 'All items matching the filter, where the read model counts them.' }) totalCount?: number;
  }
  return ConnectionClass;
}

/** The shape every connection resolver returns. */
export interface Page<Node> {
  edges: Array<{ cursor: string; node: Node }>;
  pageInfo: { endCursor?: string; hasNextPage: boolean };
  totalCount?: number;
}

/** A page of an in-memory list, with the offset as an opaque cursor. */
export function pageOf<T>(all: readonly T[], first: number, after: string | undefined, scope: string): Page<T> {
  const start = after === undefined ? 0 : decodeOffset(after, scope) + 1;
  const slice = all.slice(start, start + first);
  const edges = slice.map((node, i) => ({ cursor: encodeOffset(start + i, scope), node }));
  return { edges, pageInfo: { endCursor: edges[edges.length - 1]?.cursor, hasNextPage: start + first < all.length }, totalCount: all.length };
}

export function encodeOffset(offset: number, scope: string): string {
  return Buffer.from(`${scope}:${offset}`).toString('base64url');
}

export function decodeOffset(cursor: string, scope: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const match = new RegExp(`^${scope}:(\\d{1,9})$`).exec(text);
  if (!match) throw new CursorError(cursor);
  return Number(match[1]);
}

/** A cursor this API did not issue for this list. */
export class CursorError extends ValidationError {
  constructor(cursor: string) {
    super(`invalid cursor "${cursor.slice(0, 100)}"`);
  }
}
