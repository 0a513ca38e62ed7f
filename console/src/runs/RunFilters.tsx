import { useQuery } from 'urql';
import { isoToLocalInput, localInputToIso, RUN_STATUSES, type RunsFilterState } from './filters';
import { PROFILES_QUERY, type ProfilesData } from './queries';

/** The list's filter form; every change goes to the URL through `onChange`. */
export function RunFilters(props: { filter: RunsFilterState; onChange: (change: Partial<Record<keyof RunsFilterState, string | undefined>>) => void }) {
  const { filter, onChange } = props;
  const [profiles] = useQuery<ProfilesData>({ query: PROFILES_QUERY });
  return (
    <form className="run-filters" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
      <label>
        Status
        <select value={filter.status ?? ''} onChange={(e) => onChange({ status: e.target.value })}>
          <option value="">any</option>
          {RUN_STATUSES.map((s) => <option key={s} value={s}>{s.toLowerCase()}</option>)}
        </select>
      </label>
      <label>
        Profile
        <select value={filter.profile ?? ''} onChange={(e) => onChange({ profile: e.target.value })}>
          <option value="">any</option>
          {/* a profile named in the URL but unknown here still shows as chosen */}
          {filter.profile && !profiles.data?.profiles.edges.some((p) => p.node.name === filter.profile) && <option value={filter.profile}>{filter.profile}</option>}
          {profiles.data?.profiles.edges.map((p) => <option key={p.node.name} value={p.node.name}>{p.node.name}</option>)}
        </select>
      </label>
      <label>
        Requester
        <input type="text" defaultValue={filter.requester ?? ''} key={filter.requester ?? ''} placeholder="principal id"
          onBlur={(e) => e.target.value.trim() !== (filter.requester ?? '') && onChange({ requester: e.target.value.trim() })}
          onKeyDown={(e) => e.key === 'Enter' && onChange({ requester: e.currentTarget.value.trim() })} />
      </label>
      <label>
        Started from
        <input type="datetime-local" value={isoToLocalInput(filter.from)} onChange={(e) => onChange({ from: localInputToIso(e.target.value) })} />
      </label>
      <label>
        until
        <input type="datetime-local" value={isoToLocalInput(filter.to)} onChange={(e) => onChange({ to: localInputToIso(e.target.value) })} />
      </label>
    </form>
  );
}
