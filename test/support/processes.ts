import { type ChildProcess, spawn } from 'node:child_process';
import { builtFile } from './built.js';

/** A child process running a compiled fixture, with its output lines collected. */
export interface Child {
  readonly process: ChildProcess;
  readonly lines: string[];
  /** Its stderr, as it came. */
  readonly stderr: string[];
  /** Resolves with the first line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnFixture(fixture: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, [builtFile(fixture), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (l: string) => void }> = [];
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) if (w.pattern.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
    }
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => { stderr.push(chunk.toString()); process.stderr.write(`[${fixture} ${child.pid}] ${chunk.toString()}`); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    process: child,
    lines,
    stderr,
    exited,
    waitForLine: (pattern, timeoutMs = 20_000) => {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${fixture}: no line matching ${pattern} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ pattern, resolve: (l) => { clearTimeout(timer); resolve(l); } });
        void exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`${fixture} exited (${code ?? signal}) before a line matching ${pattern}`)); });
      });
    },
  };
}

export async function kill9(child: Child): Promise<void> {
  child.process.kill('SIGKILL');
  await child.exited;
}
