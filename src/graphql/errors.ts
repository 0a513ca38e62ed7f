import { unwrapResolverError } from '@apollo/server/errors';
import { type GraphQLFormattedError, GraphQLError } from 'graphql';
import { AuthenticationError, AuthorizationError } from 'type-graphql';
import { type DomainErrorCode, DomainError } from '../domain/errors.js';

/**
 * The stable codes a client branches on (`extensions.code`). Everything not listed here is
 * masked as INTERNAL_SERVER_ERROR with a fixed message.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  UNAUTHORIZED: 'UNAUTHORIZED',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  READ_MODEL_LAGGING: 'READ_MODEL_LAGGING',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes Apollo and graphql-js give to errors about the request itself: their messages are safe. */
const REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);
const OWN_CODES = new Set<string>(Object.values(ErrorCode));

const FROM_DOMAIN: Record<DomainErrorCode, ErrorCode> = {
  VALIDATION: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHORIZED: 'UNAUTHORIZED',
  ILLEGAL_STATE: 'CONFLICT',
  CONCURRENCY_CONFLICT: 'CONFLICT',
  // A log that no longer parses is the operator's problem, not the caller's: masked.
  CORRUPT_EVENT: 'INTERNAL_SERVER_ERROR',
};

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  QUERY_TOO_COMPLEX: 400,
  PAYLOAD_TOO_LARGE: 413,
};

/** A GraphQL error with one of the stable codes (and its HTTP status where it decides one). */
export function gqlError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  const status = HTTP_STATUS[code];
  return new GraphQLError(message, { extensions: { code, ...extra, ...(status ? { http: { status } } : {}) } });
}

export const unauthenticated = (): GraphQLError => gqlError('UNAUTHENTICATED', 'a valid bearer token is required');
export const unauthorized = (message = 'not allowed for this principal'): GraphQLError => gqlError('UNAUTHORIZED', message);
export const notFound = (message: string): GraphQLError => gqlError('NOT_FOUND', message);

/** The masked form of any error: stable code, a message meant for callers, nothing internal. */
export function maskError(formatted: GraphQLFormattedError, error: unknown, onInternal?: (error: unknown) => void): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const base = { ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}) };
  if (original instanceof DomainError) {
    const code = FROM_DOMAIN[original.code];
    if (code === 'INTERNAL_SERVER_ERROR') return internal(base, original, onInternal);
    return { ...base, message: original.message, extensions: { code, ...(original.code !== code ? { reason: original.code } : {}) } };
  }
  if (original instanceof AuthenticationError) return { ...base, message: 'a valid bearer token is required', extensions: { code: 'UNAUTHENTICATED' } };
  if (original instanceof AuthorizationError) return { ...base, message: 'not allowed for this role', extensions: { code: 'UNAUTHORIZED' } };
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && (OWN_CODES.has(code) || REQUEST_CODES.has(code)) && !(code === 'INTERNAL_SERVER_ERROR')) {
    const keep = original instanceof GraphQLError && original.extensions?.reason !== undefined ? { reason: original.extensions.reason } : {};
    return { ...base, message: formatted.message, extensions: { code, ...keep } };
  }
  return internal(base, original, onInternal);
}

function internal(base: object, original: unknown, onInternal?: (error: unknown) => void): GraphQLFormattedError {
  onInternal?.(original);
  return { ...base, message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
