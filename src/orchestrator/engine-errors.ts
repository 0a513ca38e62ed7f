import { errorCode } from '../domain/errors.js';

/** What an engine error is about; `what` is one of a few fixed words (a metric label). */
export interface EngineErrorContext {
  readonly runId: string;
  readonly what: 'drive' | 'record-result' | 'consult' | 'follow' | 'pending-slots';
  /** For `pending-slots`: whose slots were being settled. */
  readonly requesterId?: string;
  readonly code?: string;
  readonly stepId?: string;
  readonly attempt?: number;
  readonly approvalId?: string;
}

/** Where an engine error with no caller to return to goes. */
export type EngineErrorSink = (error: unknown, context: EngineErrorContext) => void;

/** Reports an error with its code, so none is dropped unseen (the engine's one way out for them). */
export type ReportError = (error: unknown, context: Omit<EngineErrorContext, 'code'>) => void;

/** Every error with no caller goes out through `sink`, with its code. */
export function errorReporter(sink: EngineErrorSink): ReportError {
  return (error, context) => sink(error, { ...context, code: errorCode(error) });
}
