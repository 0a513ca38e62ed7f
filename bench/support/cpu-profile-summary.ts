/**
 * Summarizes a `node --cpu-prof` profile: self time by package or source folder, and the hottest
 * functions. `node dist/bench/support/cpu-profile-summary.js <file.cpuprofile> [top]`.
 */
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

/** Where a frame's code lives: a package under node_modules, a folder of ours, or node itself. */
function area(url: string): string {
  if (url === '') return '(native / idle / gc)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1] as string;
  if (url.startsWith('node:')) return url;
  const ours = /\/(src|bench)\/([^/]+)(?:\/([^/]+))?/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}${ours[3] && !ours[3].endsWith('.js') ? `/${ours[3]}` : ''}`;
  return url;
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: cpu-profile-summary <file.cpuprofile> [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
let total = 0;
let idle = 0;
const areas = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id) as Node;
  total += us;
  if (n.callFrame.functionName === '(idle)') idle += us;
  const a = n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : area(n.callFrame.url);
  areas.set(a, (areas.get(a) ?? 0) + us);
  const f = `${n.callFrame.functionName || '(anonymous)'} ${area(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  fns.set(f, (fns.get(f) ?? 0) + us);
}
const busy = total - idle;
const pct = (us: number) => `${((us / busy) * 100).toFixed(1)} %`;
console.log(`total ${(total / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s; shares below are of the busy ${(busy / 1e6).toFixed(1)} s`);
console.log('\nself time by area:');
for (const [a, us] of [...areas].filter(([a]) => a !== '(idle)').sort((x, y) => y[1] - x[1]).slice(0, 30)) console.log(`  ${pct(us).padStart(7)}  ${a}`);
console.log('\nhottest functions (self):');
for (const [f, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, Number(topArg ?? 40))) console.log(`  ${pct(us).padStart(7)}  ${f}`);
