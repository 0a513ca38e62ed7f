/** What both sides of `npm run bench -- api` agree on: the run they start and the principals. */

/** The bench's 5-step run: no-op steps, each depending on the one before (as `bench -- engine`). */
export const STEPS = Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, tool: 'bench.noop', domain: 'bench', input: { n: i }, dependsOn: i === 0 ? [] : [`s${i - 1}`] }));

/** Ten requesters, each its own principal and token: no per-requester state is shared by the clients. */
export const REQUESTERS = Array.from({ length: 10 }, (_, i) => ({ id: `req${i}`, role: 'requester', token: `bench-requester-token-${String(i).padStart(3, '0')}` }));
export const DEV = { id: 'dev', role: 'developer', token: 'bench-developer-token-01' };
export const LEAD = { id: 'lead', role: 'tech_lead', token: 'bench-techlead-token-001' };

/** The gatehouse.yaml every bench process reads: the principals above and an admin. */
export const CONFIG = `auth:
  tokens:
${[...REQUESTERS, DEV, LEAD, { id: 'root', role: 'admin', token: 'bench-admin-token-00001' }].map((t) => `    - { id: ${t.id}, role: ${t.role}, token: ${t.token} }`).join('\n')}
`;
