import { describe, expect, it } from 'vitest';
import { approvalIdFromSegment, approvalPath } from './address';

describe('an approval\'s address', () => {
  const id = '27897ffa-22d0-47af-b9dc-01efffe20cbd/deploy/7';
  it('keeps the id\'s slashes inside one path segment, and reads it back', () => {
    expect(approvalPath(id)).toBe('/approvals/27897ffa-22d0-47af-b9dc-01efffe20cbd%2Fdeploy%2F7');
    expect(approvalIdFromSegment(approvalPath(id).slice('/approvals/'.length))).toBe(id);
  });
  it('the router\'s decodeURI leaves %2F alone, so the segment still decodes to the id', () => {
    expect(approvalIdFromSegment(decodeURI('27897ffa%2Fdeploy%2F7'))).toBe('27897ffa/deploy/7');
  });
  it('a link that left the slashes unencoded gives the same id', () => {
    expect(approvalIdFromSegment('27897ffa/deploy/7')).toBe('27897ffa/deploy/7');
  });
  it('a malformed escape is taken as written (the server then says there is no such approval)', () => {
    expect(approvalIdFromSegment('abc%E0%A4%A')).toBe('abc%E0%A4%A');
  });
});
