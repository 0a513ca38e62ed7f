/**
 * Metadata as a reader gets it from a stored row, written out here apart from the codec so tests
 * (and an attacker who knows the file format) can say what it is: the row leaves out the stream's
 * own id as `correlationId`, `schemaVersion` 1 and the engine's actor, and keeps the chain hash as
 * base64url (43 characters; its one canonical form); rows written whole read as they are.
 */
export function metadataAsRead(streamId: string, stored: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { correlationId: streamId.slice(streamId.indexOf('-') + 1), schemaVersion: 1, actor: 'system:engine', ...stored };
  const hash = stored.hash;
  if (typeof hash === 'string' && /^[A-Za-z0-9_-]{43}$/.test(hash) && Buffer.from(hash, 'base64url').toString('base64url') === hash) {
    out.hash = Buffer.from(hash, 'base64url').toString('hex');
  }
  return out;
}

/** The hash as a row stores it (see {@link metadataAsRead}). */
export function storedHash(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url');
}
