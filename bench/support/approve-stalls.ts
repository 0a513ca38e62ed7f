/**
 * Diagnosis for issue #16 item 5: which synchronous stretches stall a server's event loop while
 * approvals come one at a time. `node dist/bench/support/approve-stalls.js <dir> [approvals]`
 * starts the bench's API server (api-server.js, composed as `npm start`) with `--cpu-prof
 * --cpu-prof-interval 100`, warms it up, runs the approve loop alone, and asks the server for its
 * stalls (gaps over 3 ms between 1 ms timer ticks) and GC entries, all on the monotonic clock the
 * profile uses; then prints each stall beside its GC pauses and the hottest frames sampled in it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { approveLoop, benchClient, loadPass } from './api-load.js';
import { CONFIG, DEV, LEAD, REQUESTERS } from './api-shared.js';

interface Stall { from: number; to: number }
interface Gc { start: number; ms: number; kind: number }
interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; startTime: number; samples: number[]; timeDeltas: number[] }

const [dir, countArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: approve-stalls <dir> [approvals]');
mkdirSync(join(dir, 'prof'), { recursive: true });
writeFileSync(join(dir, 'gatehouse.yaml'), CONFIG);
const server = join(dirname(fileURLToPath(import.meta.url)), 'api-server.js');
const extra = (process.env.BENCH_API_NODE_ARGS ?? '--max-semi-space-size=32').split(/\s+/).filter(Boolean);
const child = spawn(process.execPath, [...extra, '--cpu-prof', '--cpu-prof-interval', '100', `--cpu-prof-dir=${join(dir, 'prof')}`, server], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, BENCH_API_MODE: 'server', BENCH_API_STALLS: '1', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'error', GATEHOUSE_DATA_DIR: join(dir, 'data'), GATEHOUSE_CONFIG: join(dir, 'gatehouse.yaml'), GATEHOUSE_SHUTDOWN_GRACE_MS: '1000' },
});
const exited = new Promise((r) => child.once('exit', r));
let out = '';
const lines: Array<(line: string) => void> = [];
child.stdout.on('data', (c: Buffer) => {
  out += c.toString();
  for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
    const line = out.slice(0, nl);
    out = out.slice(nl + 1);
    for (const l of lines) l(line);
  }
});
const nextLine = (prefix: string) => new Promise<string>((resolve) => lines.push((l) => void (l.startsWith(prefix) && resolve(l.slice(prefix.length)))));
const url = (await nextLine('gatehouse ready on ')).trim();
const clients = REQUESTERS.map((r) => benchClient(url, r.token));
const dev = benchClient(url, DEV.token);
const lead = benchClient(url, LEAD.token);
await loadPass(clients, 200);
await approveLoop(dev, lead, 50);
const mark = nextLine('stalls ');
child.kill('SIGUSR2');
await mark; // the span starts here
const ms = await approveLoop(dev, lead, Number(countArg ?? 300));
const report = nextLine('stalls ');
child.kill('SIGUSR2');
const { stalls, gcs } = JSON.parse(await report) as { stalls: Stall[]; gcs: Gc[] };
for (const c of [...clients, dev, lead]) await c.ws.dispose();
child.kill('SIGTERM');
await exited;

const sorted = [...ms].sort((a, b) => a - b);
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!.toFixed(2);
console.log(`approve round trip p50 ${q(50)} p99 ${q(99)} max ${q(100)} ms (${ms.length}); stalls over 3 ms: ${stalls.length}; GC entries: ${gcs.length}`);
const file = readdirSync(join(dir, 'prof')).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile written');
const profile = JSON.parse(readFileSync(join(dir, 'prof', file), 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const where = (url: string) => (/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? /\/(src\/.*|bench\/.*)$/.exec(url)?.[1] ?? url) || '(native)';
/** The innermost frame of our own code (src/) on the sample's stack: which of our work ran. */
const ours = (id: number): string => {
  for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
    const f = byId.get(n)!.callFrame;
    if (f.url.includes('/src/')) return `${f.functionName || '(anon)'} ${where(f.url)}:${f.lineNumber + 1}`;
  }
  return '(no src frame)';
};
const times: number[] = [];
let t = profile.startTime;
for (const d of profile.timeDeltas) times.push((t += d));
const byCause = new Map<string, { n: number; ms: number }>();
const oursAll = new Map<string, number>();
const selfAll = new Map<string, number>();
const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${v.toFixed(1)} ${k}`).join('; ');
let busyAll = 0;
for (const s of stalls) {
  const inside = gcs.filter((g) => g.start < s.to && g.start + g.ms > s.from);
  const self = new Map<string, number>();
  const mine = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const at = (times[i] ?? 0) / 1000;
    if (at < s.from || at > s.to) return;
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') return;
    const d = (profile.timeDeltas[i] ?? 0) / 1000;
    busy += d;
    const k = `${f.functionName || '(anon)'} ${where(f.url)}`;
    self.set(k, (self.get(k) ?? 0) + d);
    selfAll.set(k, (selfAll.get(k) ?? 0) + d);
    const o = ours(id);
    mine.set(o, (mine.get(o) ?? 0) + d);
    oursAll.set(o, (oursAll.get(o) ?? 0) + d);
  });
  busyAll += busy;
  const gcText = inside.map((g) => `gc kind ${g.kind} ${g.ms.toFixed(1)} ms`).join(', ');
  if (process.env.STALLS_VERBOSE) console.log(`\nstall ${(s.to - s.from).toFixed(1)} ms, ${busy.toFixed(1)} ms sampled busy ${gcText ? `[${gcText}]` : ''}\n  self: ${top(self, 5)}\n  ours: ${top(mine, 4)}`);
  const cause = inside.length ? `gc kind ${inside.map((g) => g.kind).join('+')}` : busy < (s.to - s.from) / 2 ? '(not running: under half the stall sampled busy)' : [...mine].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '?';
  const c = byCause.get(cause) ?? { n: 0, ms: 0 };
  byCause.set(cause, { n: c.n + 1, ms: c.ms + s.to - s.from });
}
const total = stalls.reduce((a, s) => a + s.to - s.from, 0);
console.log(`stalls total ${total.toFixed(0)} ms, sampled busy inside them ${busyAll.toFixed(0)} ms`);
console.log('\nstalls by cause (GC if a pause overlaps, else the src frame with most busy samples):');
for (const [k, v] of [...byCause].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${v.n} stalls, ${v.ms.toFixed(0)} ms: ${k}`);
console.log(`\nbusy ms inside stalls by innermost src frame: ${top(oursAll, 15).split('; ').join('\n  ')}`);
console.log(`\nbusy ms inside stalls by self frame: ${top(selfAll, 15).split('; ').join('\n  ')}`);
