import { Link } from 'wouter';
import { layoutDag } from './dag';
import { formatDuration } from './format';
import type { RunStep } from './queries';

const COL = 190;
const ROW = 74;
const W = 160;
const H = 52;

/** The steps as a DAG (layered by dependsOn, drawn in SVG), then as a table with their details. */
export function StepDag(props: { steps: readonly RunStep[] }) {
  const { nodes, edges, layers } = layoutDag(props.steps);
  const at = new Map(nodes.map((n) => [n.step.id, { x: n.layer * COL + 8, y: n.row * ROW + 8 }]));
  const rows = Math.max(1, ...nodes.map((n) => n.row + 1));
  return (
    <>
      <svg className="step-dag" role="img" aria-label={`Steps: ${nodes.map((n) => `${n.step.id} ${n.step.status.toLowerCase()}`).join(', ')}`}
        width={Math.max(1, layers) * COL + 16} height={rows * ROW + 16}>
        <defs>
          <marker id="dag-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" /></marker>
        </defs>
        {edges.map((e) => {
          const a = at.get(e.from);
          const b = at.get(e.to);
          return a && b ? <line key={`${e.from}-${e.to}`} className="dag-edge" x1={a.x + W} y1={a.y + H / 2} x2={b.x} y2={b.y + H / 2} markerEnd="url(#dag-arrow)" /> : null;
        })}
        {nodes.map((n) => {
          const p = at.get(n.step.id)!;
          return (
            <g key={n.step.id} className={`dag-node step-${n.step.status.toLowerCase()}`} transform={`translate(${p.x},${p.y})`} data-step-id={n.step.id}>
              <title>{`${n.step.id}: ${n.step.tool}, ${n.step.status}`}</title>
              <rect width={W} height={H} rx={6} />
              <text x={8} y={20} className="dag-id">{n.step.id}</text>
              <text x={8} y={40} className="dag-status">{n.step.status.toLowerCase().replace('_', ' ')}</text>
            </g>
          );
        })}
      </svg>
      <table className="steps-table">
        <thead><tr><th scope="col">Step</th><th scope="col">Tool</th><th scope="col">Status</th><th scope="col">After</th><th scope="col">Worker</th><th scope="col">Attempts</th><th scope="col">Approval</th><th scope="col">Took</th></tr></thead>
        <tbody>
          {props.steps.map((s) => (
            <tr key={s.id} data-step-id={s.id}>
              <td>{s.id}</td>
              <td>{s.tool}</td>
              <td><span className={`badge step-${s.status.toLowerCase()}`}>{s.status}</span>{s.error && <div className="error">{s.error.code ? `${s.error.code}: ` : ''}{s.error.message}</div>}</td>
              <td>{s.dependsOn.join(', ') || '–'}</td>
              <td>{s.worker ?? '–'}</td>
              <td>{s.attempts}</td>
              <td>{s.approvalId ? <Link href={`/approvals/${encodeURIComponent(s.approvalId)}`}>{(s.approvalStatus ?? '').toLowerCase()} {s.approvalsRequired ? `${s.approvalsReceived ?? 0} of ${s.approvalsRequired}` : ''}</Link> : '–'}</td>
              <td>{formatDuration(s.durationMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
