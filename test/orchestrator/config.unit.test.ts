import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfig, parseConfig } from '../../src/orchestrator/config.js';

describe('gatehouse.yaml', () => {
  it('is all defaults when absent or empty, and defaults equal DESIGN.md', () => {
    expect(loadConfig()).toEqual(defaultConfig);
    expect(parseConfig({})).toEqual(defaultConfig);
    expect(defaultConfig.approvals.levels.critical).toEqual({ autoApprove: false, timeoutMinutes: 120, approvals: 2, eligibleRoles: ['devops_engineer'], justification: true, onTimeout: 'deny' });
    expect(defaultConfig.approvals.roles).toMatchObject({ developer: { maxPending: 5 }, tech_lead: { maxPending: 10, escalateTo: ['devops_engineer'] }, devops_engineer: { maxPending: 20 } });
  });

  it('merges a file over the defaults: objects key by key, lists replaced', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
    const file = join(dir, 'gatehouse.yaml');
    writeFileSync(file, [
      'approvals:',
      '  levels:',
      '    medium: { timeoutMinutes: 5, onTimeout: approve }',
      '  confidence:',
      '    trustedRequesters: [deploy-bot]',
      'notifications:',
      '  reminders: [0.75]',
    ].join('\n'));
    const config = loadConfig(file);
    expect(config.approvals.levels.medium).toEqual({ ...defaultConfig.approvals.levels.medium, timeoutMinutes: 5, onTimeout: 'approve' });
    expect(config.approvals.levels.high).toEqual(defaultConfig.approvals.levels.high);
    expect(config.approvals.confidence.trustedRequesters).toEqual(['deploy-bot']);
    expect(config.approvals.confidence.adjustments).toEqual(defaultConfig.approvals.confidence.adjustments);
    expect(config.notifications).toEqual({ ...defaultConfig.notifications, reminders: [0.75] });
  });

  it('names the path of every bad value, and refuses unknown keys', () => {
    const bad = () => parseConfig({ approvals: { levels: { high: { approvals: 0 } }, confidence: { autoAt: 150 } }, notifcations: {} }, 'gatehouse.yaml');
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/approvals\.levels\.high\.approvals/);
    expect(bad).toThrow(/approvals\.confidence\.autoAt/);
    expect(bad).toThrow(/notifcations|Unrecognized key/);
    expect(() => parseConfig({ automatedApprovers: [{ type: 'webhook', name: 'x', url: 'not a url' }] })).toThrow(/automatedApprovers\.0\.url/);
    expect(() => parseConfig([])).toThrow(/mapping/);
  });

  it('reports a file that is not YAML, with its name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'approvals: [unclosed');
    expect(() => loadConfig(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  });
});
