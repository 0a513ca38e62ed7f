import { describe, expect, it } from 'vitest';
import { filtersToSearch, isoToLocalInput, localInputToIso, parseFilters, runsVariables, withFilter } from './filters';

describe('runs filters in the URL', () => {
  it('round-trips every filter through the query string', () => {
    const filter = { status: 'FAILED' as const, profile: 'enterprise', requester: 'alice', from: '2026-01-01T10:00:00.000Z', to: '2026-01-02T10:00:00.000Z', after: 'c1' };
    const search = filtersToSearch(filter);
    expect(search).toBe('?status=FAILED&profile=enterprise&requester=alice&from=2026-01-01T10%3A00%3A00.000Z&to=2026-01-02T10%3A00%3A00.000Z&after=c1');
    expect(parseFilters(search)).toEqual({ filter, problems: [] });
  });

  it('drops what cannot be a filter and says why', () => {
    const { filter, problems } = parseFilters('?status=DONE&from=yesterday&profile=%20&requester=bob');
    expect(filter).toEqual({ requester: 'bob' });
    expect(problems).toEqual(['unknown status "DONE"', '"yesterday" is not a time (from)']);
    expect(parseFilters('?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z').problems).toEqual(['the range ends before it starts']);
  });

  it('a change of filter goes back to the first page; an empty value removes the filter', () => {
    expect(withFilter({ status: 'RUNNING', after: 'c9' }, { profile: 'dev' })).toEqual({ status: 'RUNNING', profile: 'dev' });
    expect(withFilter({ status: 'RUNNING', profile: 'dev' }, { status: '' })).toEqual({ profile: 'dev' });
    expect(withFilter({ status: 'RUNNING' }, { after: 'c2' })).toEqual({ status: 'RUNNING', after: 'c2' });
    expect(filtersToSearch({})).toBe('');
  });

  it('maps to the runs query variables (from/to are startedAfter/startedBefore)', () => {
    expect(runsVariables({ status: 'RUNNING', from: 'a', to: 'b', after: 'c' }, 20)).toEqual({ filter: { status: 'RUNNING', startedAfter: 'a', startedBefore: 'b' }, first: 20, after: 'c' });
    expect(runsVariables({}, 5)).toEqual({ filter: {}, first: 5 });
  });

  it('shows instants as local input values and reads them back', () => {
    const iso = localInputToIso('2026-03-04T05:06');
    expect(iso).toBe(new Date(2026, 2, 4, 5, 6).toISOString());
    expect(isoToLocalInput(iso)).toBe('2026-03-04T05:06');
    expect(localInputToIso('')).toBeUndefined();
    expect(isoToLocalInput(undefined)).toBe('');
  });
});
