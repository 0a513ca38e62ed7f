import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { readEnv } from '../../src/server/env.js';
import { repoRoot } from '../support/built.js';

/**
 * The docker-compose `cluster` profile (README "Running several instances"). No Docker engine runs
 * here, so the file is read: two Gatehouse instances on the one EventStoreDB, sharing what must be
 * shared (store, audit key, config) and nothing that must stay local (data folder), each with an
 * environment the server's own reader accepts.
 */
interface Service {
  profiles?: string[];
  build?: string;
  command?: unknown;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  secrets?: string[];
  depends_on?: Record<string, { condition: string }>;
}
const compose = parseYaml(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; secrets?: Record<string, { file: string }>; volumes: Record<string, unknown> };
const instances = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('cluster'));
const mountOf = (s: Service, target: string) => s.volumes?.find((v) => v.split(':')[1] === target)?.split(':')[0];

describe('docker compose --profile cluster', () => {
  it('two Gatehouse instances, outside the default profile, built from this Dockerfile and run by its CMD', () => {
    expect(instances.map(([name]) => name)).toEqual(['gatehouse-a', 'gatehouse-b']);
    for (const [, s] of instances) {
      expect(s.build).toBe('.');
      expect(s.command).toBeUndefined();
      expect(s.depends_on?.eventstore?.condition).toBe('service_healthy');
    }
    // The default `docker compose up` keeps its one instance.
    expect(Object.entries(compose.services).filter(([, s]) => !s.profiles).map(([n]) => n)).toEqual(['eventstore', 'gatehouse']);
  });

  it('share the EventStoreDB, the audit key and the config; keep their own data folder and port', () => {
    const envs = instances.map(([, s]) => readEnv(s.environment ?? {}));
    const [a, b] = instances.map(([, s]) => s) as [Service, Service];
    expect(envs[0]?.eventStore).toMatch(/^esdb:\/\/eventstore:2113/);
    for (const key of ['eventStore', 'auditKey', 'configPath'] as const) expect(envs[1]?.[key]).toBe(envs[0]?.[key]);
    // The key is the one compose secret, read from one file.
    expect(envs[0]?.auditKey).toBe('/run/secrets/audit_key');
    expect(a.secrets).toEqual(['audit_key']);
    expect(b.secrets).toEqual(['audit_key']);
    expect(compose.secrets?.audit_key?.file).toBe('./audit-key.pem');
    // The same gatehouse.yaml (tokens, policy) mounted where GATEHOUSE_CONFIG points.
    expect(mountOf(a, envs[0]?.configPath as string)).toBe(mountOf(b, envs[1]?.configPath as string));
    // Each data folder is its own named volume: two instances never share read models or a run index.
    const dataA = mountOf(a, a.environment?.GATEHOUSE_DATA_DIR as string);
    const dataB = mountOf(b, b.environment?.GATEHOUSE_DATA_DIR as string);
    expect(dataA).not.toBe(dataB);
    for (const v of [dataA, dataB]) expect(Object.keys(compose.volumes)).toContain(v);
    expect(a.ports?.[0]?.split(':')[0]).not.toBe(b.ports?.[0]?.split(':')[0]);
  });
});
