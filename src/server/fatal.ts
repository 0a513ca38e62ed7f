import type { ServerLog } from '../graphql/http/server.js';

/**
 * What a server process does with an error nothing awaits: it is logged with its stack, a one-line
 * message goes to stderr, and the process exits 1. Going on would run with state nobody knows
 * (the log stays the truth; a supervisor restarts the process), and Node's own crash print is a
 * stack trace without a word for the operator.
 */
export function exitOnUnhandled(log: ServerLog): void {
  const fatal = (kind: string) => (error: unknown) => {
    log.error({ err: error }, `${kind}: exiting`);
    process.stderr.write(`gatehouse: fatal: ${kind}: ${messageOf(error)}\n`);
    process.exit(1);
  };
  process.on('unhandledRejection', fatal('unhandled rejection'));
  process.on('uncaughtException', fatal('uncaught exception'));
}

/**
 * Awaits the start, or exits 1 with "gatehouse: cannot start: <why>": a refused start (data folder
 * in use, bad config, the event store unavailable past its retries) is a message for the operator,
 * not a stack trace. It exits at once, since what was opened before the refusal would otherwise
 * keep the process alive.
 */
export async function startOrExit<T>(start: Promise<T>): Promise<T> {
  try {
    return await start;
  } catch (error) {
    process.stderr.write(`gatehouse: cannot start: ${messageOf(error)}\n`);
    process.exit(1);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
