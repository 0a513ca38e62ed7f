import { describe, expect, it } from 'vitest';
import { approvalIdOf, runIdOfApprovalId } from '../../src/domain/approvals/approval-id.js';
import { RiskLevel, riskRank } from '../../src/domain/events/common.js';
import { ROLES, TokenEntry } from '../../src/domain/roles.js';
import { parseConfig } from '../../src/orchestrator/config.js';
import { TokenDirectory } from '../../src/graphql/auth/tokens.js';

describe('the definitions the domain owns once', () => {
  it('an approval id names its run, step and run version, and parses back to its run', () => {
    const id = approvalIdOf('run1', 'deploy', 7);
    expect(id).toBe('run1/deploy/7');
    expect(runIdOfApprovalId(id)).toBe('run1');
  });

  it.each([['run1'], ['run1/deploy'], ['run1/deploy/7/8'], [''], ['/deploy/7'], [42], [undefined]])('%s is not an approval id', (id) => {
    expect(runIdOfApprovalId(id)).toBeUndefined();
  });

  it('risk is ordered low < medium < high < critical', () => {
    const ranks = RiskLevel.options.map(riskRank);
    expect(RiskLevel.options).toEqual(['low', 'medium', 'high', 'critical']);
    expect(ranks).toEqual([0, 1, 2, 3]);
  });

  it('the config and the token directory accept the same roles and refuse the same entries', () => {
    for (const role of ROLES) {
      const entry = { token: 'x'.repeat(16), id: `u-${role}`, role };
      expect(parseConfig({ auth: { tokens: [entry] } }).auth.tokens[0]?.role).toBe(role);
      expect(new TokenDirectory([entry]).size).toBe(1);
    }
    const bad = [
      { token: 'x'.repeat(16), id: 'u', role: 'devops' },
      { token: 'x'.repeat(16), sha256: 'a'.repeat(64), id: 'u', role: 'admin' },
      { token: 'x'.repeat(16), id: 'u', role: 'admin', extra: true },
    ];
    for (const entry of bad) {
      expect(TokenEntry.safeParse(entry).success).toBe(false);
      expect(() => parseConfig({ auth: { tokens: [entry] } })).toThrow(/auth\.tokens\.0/);
      expect(() => new TokenDirectory([entry as never])).toThrow();
    }
  });
});
