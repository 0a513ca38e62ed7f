import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditSigner } from '../../domain/ports/audit-signer.js';

export const AUDIT_KEY_FILE = 'audit-ed25519.pem';
export const AUDIT_PUBLIC_KEY_FILE = 'audit-ed25519.pub.pem';

/**
 * The server's audit key: read from `privateKeyPath` if given, else from the data folder, where
 * it is generated at first start (private key mode 0600, public key beside it).
 */
export function loadOrCreateAuditSigner(options: { dataDir: string; privateKeyPath?: string }): AuditSigner & { created: boolean } {
  const path = options.privateKeyPath ?? join(options.dataDir, AUDIT_KEY_FILE);
  let created = false;
  if (!existsSync(path)) {
    if (options.privateKeyPath) throw new Error(`audit key ${path} does not exist`);
    mkdirSync(options.dataDir, { recursive: true });
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    chmodSync(path, 0o600);
    writeFileSync(join(options.dataDir, AUDIT_PUBLIC_KEY_FILE), publicKey.export({ type: 'spki', format: 'pem' }));
    created = true;
  }
  const privateKey = createPrivateKey(readFileSync(path));
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`audit key ${path} is not an Ed25519 key`);
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { publicKeyPem, created, sign: (payload) => sign(null, Buffer.from(payload), privateKey).toString('base64') };
}
