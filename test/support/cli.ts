import { spawn } from 'node:child_process';
import { builtFile } from './built.js';

/** What a finished CLI process gave back. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI (`dist/src/cli/main.js`) as a child process with `env` over this process's
 * environment; resolves with its exit code and output. Asynchronous on purpose: a spawnSync would
 * block this process's event loop, so a test's fetch could not notice that a server closed an idle
 * keep-alive socket and would send the next request down that dead socket.
 */
export function runBuiltCli(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<CliResult> {
  const child = spawn(process.execPath, [builtFile('src/cli/main.ts'), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
