/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits 0 (1 if stopping failed). A second signal
 * while stopping exits at once: an operator who presses Ctrl-C twice means it. The same signal
 * again within `sameSignalWindowMs` (1 s) is not a second press but the first one delivered twice:
 * Ctrl-C on `npm start` signals the whole process group and npm forwards it to the server too,
 * which would otherwise skip the graceful stop every time.
 */
export function onShutdownSignals(
  stop: () => Promise<void>,
  log: (message: string) => void = () => {},
  sameSignalWindowMs = 1000,
): void {
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  const handler = (signal: NodeJS.Signals): void => {
    if (first) {
      if (signal === first.signal && Date.now() - first.at < sameSignalWindowMs) return;
      log(`${signal} again: exiting now`);
      process.exit(1);
    }
    first = { signal, at: Date.now() };
    log(`${signal}: stopping`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`stopping failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
