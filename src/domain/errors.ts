/** The stable error codes every transport maps from (GraphQL, CLI, HTTP). */
export type DomainErrorCode =
  | 'VALIDATION'
  | 'ILLEGAL_STATE'
  | 'NOT_FOUND'
  | 'CONCURRENCY_CONFLICT'
  | 'UNAUTHORIZED'
  | 'CORRUPT_EVENT';

/** Base of every error Gatehouse raises on purpose; `code` is what callers branch on. */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Input that breaks a rule: bad stream name, schema failure, oversized event, unknown type. */
export class ValidationError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('VALIDATION', message, details);
  }
}

/** A stored event that no longer parses: the log or the code is wrong, never skip it silently. */
export class CorruptEventError extends DomainError {
  constructor(
    readonly streamId: string,
    readonly revision: number,
    reason: string,
  ) {
    super('CORRUPT_EVENT', `stored event ${streamId}@${revision} is invalid: ${reason}`, {
      streamId,
      revision,
    });
  }
}

/** Throws at compile time when a switch misses a case, and at run time if one slips through. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** A command that the current state does not allow (a finished run, a closed gate, ...). */
export class IllegalStateError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('ILLEGAL_STATE', message, details);
  }
}

/** The thing a command names does not exist. */
export class NotFoundError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('NOT_FOUND', message, details);
  }
}

/** The principal may not do this (wrong role, its own request, ...). */
export class UnauthorizedError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('UNAUTHORIZED', message, details);
  }
}

/** The code an error is counted and logged under: a DomainError's own, otherwise INTERNAL. */
export function errorCode(error: unknown): DomainErrorCode | 'INTERNAL' {
  return error instanceof DomainError ? error.code : 'INTERNAL';
}
