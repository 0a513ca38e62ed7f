/**
 * System events as a fresh EventStoreDB holds them in `$all` (`$`-prefixed streams and types),
 * and the `$>` links its `$by_category` projection writes, so adapters must filter them.
 */
import { randomUUID } from 'node:crypto';
import type { EventLog, ProposedEvent } from './log.js';

function systemEvent(type: string, data: unknown): ProposedEvent {
  return {
    id: randomUUID(),
    type,
    contentType: 'application/json',
    data: Buffer.from(JSON.stringify(data)),
    customMetadata: new Uint8Array(),
  };
}

/** What a new node writes before any user event. */
export function seedSystemEvents(log: EventLog): void {
  log.append('$epochs', { kind: 'any' }, [systemEvent('$epoch-information', { epochNumber: 0, leaderInstanceId: randomUUID() })]);
  log.append('$users', { kind: 'any' }, [systemEvent('$UserCreated', 'admin'), systemEvent('$UserCreated', 'ops')]);
  log.append('$user-admin', { kind: 'any' }, [systemEvent('$user', { loginName: 'admin', fullName: 'Event Store Administrator' })]);
  log.append('$projections-$all', { kind: 'any' }, [systemEvent('$ProjectionsInitialized', {})]);
}

/**
 * After each user append, a `$>` link per event in `$ce-<category>`, as the `$by_category`
 * system projection would write it (synchronously here; the real one lags a little).
 */
export function emitCategoryLinks(log: EventLog): () => void {
  let seen = log.all.length;
  let writing = false;
  return log.onWrite(() => {
    if (writing) return;
    const fresh = log.all.slice(seen);
    seen = log.all.length;
    const links = fresh.filter((r) => !r.streamId.startsWith('$') && !r.type.startsWith('$') && r.streamId.includes('-'));
    writing = true;
    try {
      for (const record of links) {
        const category = record.streamId.slice(0, record.streamId.indexOf('-'));
        log.append(`$ce-${category}`, { kind: 'any' }, [
          { ...systemEvent('$>', null), contentType: 'application/octet-stream', data: Buffer.from(`${record.revision}@${record.streamId}`) },
        ]);
      }
    } finally {
      writing = false;
      seen = log.all.length;
    }
  });
}
