import type { ApprovalNotification, Notifier } from '../../domain/ports/notifier.js';

export interface WebhookTarget {
  readonly url: string;
  /** Risk levels this target hears about; empty = all. */
  readonly levels: readonly string[];
}

export interface NotifierStats {
  delivered: number;
  retried: number;
  failed: number;
}

/**
 * POSTs each notification to the targets of its risk level, in the background: up to `attempts`
 * tries with exponential backoff; a failure is reported and counted, never thrown into a run.
 */
export function createWebhookNotifier(options: {
  targets: readonly WebhookTarget[];
  attempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  onFailure?: (url: string, notification: ApprovalNotification, error: string) => void;
}): Notifier & { stats: NotifierStats; idle(): Promise<void> } {
  const attempts = options.attempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 200;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const stats: NotifierStats = { delivered: 0, retried: 0, failed: 0 };
  const inFlight = new Set<Promise<void>>();

  const deliver = async (url: string, notification: ApprovalNotification): Promise<void> => {
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(notification),
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.arrayBuffer();
        if (response.ok) {
          stats.delivered++;
          return;
        }
        lastError = `status ${response.status}`;
      } catch (error) {
        lastError = (error as Error).message;
      }
      if (attempt < attempts) {
        stats.retried++;
        await new Promise((r) => setTimeout(r, baseDelayMs * 2 ** (attempt - 1)));
      }
    }
    stats.failed++;
    options.onFailure?.(url, notification, lastError);
  };

  return {
    stats,
    notify(notification) {
      for (const target of options.targets) {
        if (target.levels.length > 0 && !target.levels.includes(notification.riskLevel)) continue;
        const p = deliver(target.url, notification);
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
    },
    /** Resolves when every delivery under way has ended (for shutdown and tests). */
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
