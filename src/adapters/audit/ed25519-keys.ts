import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyIdOf } from '../../domain/audit/chain.js';
import type { AuditSigner } from '../../domain/ports/audit-signer.js';

export const AUDIT_KEY_FILE = 'audit-ed25519.pem';
export const AUDIT_PUBLIC_KEY_FILE = 'audit-ed25519.pub.pem';

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g;

/**
 * The server's audit key. `key` (GATEHOUSE_AUDIT_KEY) is a PKCS#8 PEM or the path of a file holding
 * one, so several instances sign with one key; without it, the data folder's key, generated at
 * first start (private key mode 0600, public key beside it).
 */
export function loadOrCreateAuditSigner(options: { dataDir: string; key?: string }): AuditSigner & { created: boolean } {
  let created = false;
  let pem: string;
  if (options.key !== undefined) {
    pem = isPem(options.key) ? options.key : readKeyFile(options.key);
  } else {
    const path = join(options.dataDir, AUDIT_KEY_FILE);
    if (!existsSync(path)) {
      mkdirSync(options.dataDir, { recursive: true });
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      chmodSync(path, 0o600);
      writeFileSync(join(options.dataDir, AUDIT_PUBLIC_KEY_FILE), publicKey.export({ type: 'spki', format: 'pem' }));
      created = true;
    }
    pem = readFileSync(path, 'utf8');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new Error(`audit key: not a private key PEM (${(error as Error).message})`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`audit key: an Ed25519 key is needed, not ${privateKey.asymmetricKeyType}`);
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { publicKeyPem, keyId: keyIdOf(publicKeyPem), created, sign: (payload) => sign(null, Buffer.from(payload), privateKey).toString('base64') };
}

/**
 * Public keys to pin verification to, from PEM text or a file path (one or more PEM blocks each):
 * `--public-key`, GATEHOUSE_AUDIT_PUBLIC_KEY. A value that holds no Ed25519 public key is an error.
 */
export function readPinnedKeys(values: readonly string[]): string[] {
  return values.flatMap((value) => {
    const text = isPem(value) ? value : readKeyFile(value);
    const blocks = text.match(PEM_BLOCK) ?? [];
    if (blocks.length === 0) throw new Error(`${isPem(value) ? 'public key' : value}: no PEM public key in it`);
    return blocks.map((block) => {
      if (block.includes('PRIVATE KEY')) throw new Error('a private key was given where a public key is pinned: pin the public key');
      try {
        const key = createPublicKey(block);
        if (key.asymmetricKeyType !== 'ed25519') throw new Error(`an Ed25519 key is needed, not ${key.asymmetricKeyType}`);
        return key.export({ type: 'spki', format: 'pem' }).toString();
      } catch (error) {
        throw new Error(`${isPem(value) ? 'public key' : value}: ${(error as Error).message}`);
      }
    });
  });
}

function isPem(value: string): boolean {
  return value.trimStart().startsWith('-----BEGIN');
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`audit key file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
