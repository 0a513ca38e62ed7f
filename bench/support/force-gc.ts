import WebSocket from 'ws';

/** The inspector's WebSocket URL from a child started with `--inspect=127.0.0.1:0` (its stderr line). */
export const INSPECTOR_LINE = /Debugger listening on (ws:\/\/\S+)/;

/**
 * Forces full garbage collections in another Node process through its inspector
 * (`HeapProfiler.collectGarbage`), so a bench can tell memory that is held from garbage not yet
 * collected without adding code to the process it measures. Two rounds: objects that only a
 * finalizer or weak reference kept die in the second.
 */
export async function forceGc(inspectorUrl: string): Promise<void> {
  const ws = new WebSocket(inspectorUrl);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  try {
    for (let id = 1; id <= 2; id++) {
      await new Promise<void>((resolve, reject) => {
        const onMessage = (raw: WebSocket.RawData) => {
          const msg = JSON.parse(raw.toString()) as { id?: number; error?: { message: string } };
          if (msg.id !== id) return;
          ws.off('message', onMessage);
          if (msg.error) reject(new Error(`HeapProfiler.collectGarbage: ${msg.error.message}`));
          else resolve();
        };
        ws.on('message', onMessage);
        ws.send(JSON.stringify({ id, method: 'HeapProfiler.collectGarbage' }));
      });
    }
  } finally {
    ws.close();
  }
}
