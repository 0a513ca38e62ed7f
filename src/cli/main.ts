#!/usr/bin/env node
/**
 * `gatehouse`: the operator's command line. Talks to a running server over GraphQL for runs and
 * approvals, and reads the store directly for replay, audit and maintenance. Exit codes: 0 ok,
 * 1 a failure found (a broken audit chain, a refused operation, an unreachable server), 2 usage.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { readEnv } from '../server/env.js';
import { table } from './format.js';
import { CliError, graphql } from './graphql-client.js';
import { loadOrCreateAuditSigner, readPinnedKeys } from '../adapters/audit/ed25519-keys.js';
import { keyIdOf } from '../domain/audit/chain.js';
import { relayStdioToMcp } from './mcp-proxy.js';
import { exportRun, localPublicKey, timeline, verifyExport, verifyStream, withStore } from './offline.js';

const env = readEnv();
const program = new Command('gatehouse')
  .description('Gatehouse: event-sourced approvals for AI-agent tool calls')
  .addOption(new Option('--json', 'machine-readable output'))
  .addOption(new Option('--server <url>', 'GraphQL endpoint').env('GATEHOUSE_URL').default(`http://127.0.0.1:${env.port}/graphql`))
  .addOption(new Option('--token <token>', 'bearer token').env('GATEHOUSE_TOKEN'))
  .addOption(new Option('--data-dir <dir>', 'data folder of the local store').env('GATEHOUSE_DATA_DIR').default(env.dataDir))
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });

const opts = () => program.opts<{ json?: boolean; server: string; token?: string; dataDir: string }>();
const storeEnv = () => ({ dataDir: opts().dataDir, eventStore: env.eventStore });
const out = (human: string, data: unknown) => process.stdout.write(`${opts().json ? JSON.stringify(data, null, 2) : human}\n`);
const gql = <T>(query: string, variables?: Record<string, unknown>) => graphql<T>(opts().server, opts().token, query, variables);

program.command('serve').description('start the server (same as npm start)').action(async () => {
  await import('../server/main.js');
});

program.command('mcp')
  .description('an MCP server on stdin/stdout for clients that launch a process: relays to a running server\'s /mcp with GATEHOUSE_TOKEN')
  .addOption(new Option('--mcp-url <url>', 'the server\'s MCP endpoint (default: --server with /graphql replaced by /mcp)').env('GATEHOUSE_MCP_URL'))
  .action(async (o: { mcpUrl?: string }) => {
    const token = opts().token;
    if (!token) throw new CliError('no token: set GATEHOUSE_TOKEN (or pass --token)', 2);
    const url = o.mcpUrl ?? opts().server.replace(/\/graphql\/?$/, '/mcp');
    // stdout carries JSON-RPC only: everything else goes to stderr.
    await relayStdioToMcp(url, token, (line) => process.stderr.write(`${line}\n`));
  });

// Runs ------------------------------------------------------------------------------------------
const runs = program.command('runs').description('runs on a server');
const RUN_FIELDS = 'runId status stage goal profile startedAt progress { percent } requester { id role }';
runs.command('list').description('the newest runs').option('--status <status>', 'only runs with this status').option('--first <n>', 'how many', '20')
  .action(async (o: { status?: string; first: string }) => {
    const data = await gql<{ runs: { edges: Array<{ node: Record<string, any> }> } }>(
      `query($first: Int, $filter: RunsFilter) { runs(first: $first, filter: $filter) { edges { node { ${RUN_FIELDS} } } } }`,
      { first: Number(o.first), filter: o.status ? { status: o.status } : undefined },
    );
    const rows = data.runs.edges.map(({ node: r }) => ({ run: r.runId, status: r.status, stage: r.stage, progress: `${Math.round(r.progress.percent)}%`, requester: r.requester?.id, goal: r.goal }));
    out(table(rows), data.runs.edges.map((e) => e.node));
  });
runs.command('show').argument('<runId>').description('one run with its steps').action(async (runId: string) => {
  const data = await gql<{ run: Record<string, any> }>(`query($id: ID!) { run(runId: $id) { ${RUN_FIELDS} steps { id status tool attempts worker } } }`, { id: runId });
  const r = data.run;
  out(`${r.runId}  ${r.status}  ${r.stage}  ${Math.round(r.progress.percent)}%  "${r.goal}"\n\n${table(r.steps)}`, r);
});

// Approvals -------------------------------------------------------------------------------------
const approvals = program.command('approvals').description('approval requests on a server');
approvals.command('list').description('what you may decide (urgent first, then oldest)').option('--all', 'every open request, not only yours to decide')
  .action(async (o: { all?: boolean }) => {
    const data = await gql<{ pendingApprovals: { edges: Array<{ node: Record<string, any> }> } }>(
      `query($scope: ApprovalScope) { pendingApprovals(first: 100, scope: $scope) { edges { node { approvalId runId stepId tool priority reviewLevel requiredApprovals receivedApprovals requester { id } risk { level } expiresAt } } } }`,
      o.all ? { scope: 'ALL' } : {},
    );
    const rows = data.pendingApprovals.edges.map(({ node: a }) => ({ approval: a.approvalId, risk: a.risk.level, review: a.reviewLevel, votes: `${a.receivedApprovals}/${a.requiredApprovals}`, priority: a.priority, tool: a.tool, requester: a.requester.id, expires: a.expiresAt }));
    out(table(rows), data.pendingApprovals.edges.map((e) => e.node));
  });
const decided = (verb: string) => (data: Record<string, { approval: { approvalId: string; status: string }; run: { status: string } }>) => {
  const payload = Object.values(data)[0] as { approval: { approvalId: string; status: string }; run: { status: string } };
  out(`${verb} ${payload.approval.approvalId}: gate ${payload.approval.status}, run ${payload.run.status}`, payload);
};
const PAYLOAD = '{ approval { approvalId status } run { runId status } }';
approvals.command('approve').argument('<approvalId>').option('-j, --justification <text>').option('--edit <json>', 'approve with this input instead')
  .action(async (approvalId: string, o: { justification?: string; edit?: string }) => {
    let editedInput: unknown;
    if (o.edit) {
      try { editedInput = JSON.parse(o.edit); } catch { throw new CliError('--edit must be a JSON object', 2); }
    }
    decided('approved')(await gql(`mutation($input: ApproveInput!) { approve(input: $input) ${PAYLOAD} }`, { input: { approvalId, justification: o.justification, editedInput } }));
  });
approvals.command('deny').argument('<approvalId>').option('-j, --justification <text>').action(async (approvalId: string, o: { justification?: string }) => {
  decided('denied')(await gql(`mutation($input: DenyInput!) { deny(input: $input) ${PAYLOAD} }`, { input: { approvalId, justification: o.justification } }));
});
approvals.command('escalate').argument('<approvalId>').option('--to <roles...>', 'roles to widen to').option('--reason <text>')
  .action(async (approvalId: string, o: { to?: string[]; reason?: string }) => {
    decided('escalated')(await gql(`mutation($input: EscalateInput!) { escalateApproval(input: $input) ${PAYLOAD} }`, { input: { approvalId, toRoles: o.to, reason: o.reason } }));
  });
approvals.command('cancel').argument('<approvalId>').option('--reason <text>').action(async (approvalId: string, o: { reason?: string }) => {
  decided('cancelled')(await gql(`mutation($input: ApprovalReasonInput!) { cancelApproval(input: $input) ${PAYLOAD} }`, { input: { approvalId, reason: o.reason } }));
});

// Straight from the store -------------------------------------------------------------------------
program.command('replay').argument('<runId>').description("a run's stream as a readable timeline").action(async (runId: string) => {
  const events = await withStore(storeEnv(), (s) => s.readStream(`run-${runId}`));
  if (events.length === 0) throw new CliError(`no run ${runId}`);
  const rows = timeline(events);
  out(table(rows), rows);
});

const audit = program.command('audit').description('tamper evidence: export and verify');
audit.command('export').argument('<runId>').option('-o, --out <file>', 'write here instead of stdout').action(async (runId: string, o: { out?: string }) => {
  const text = await withStore(storeEnv(), (s) => exportRun(s, runId, { publicKeyPem: env.auditKey ? loadOrCreateAuditSigner({ dataDir: opts().dataDir, key: env.auditKey }).publicKeyPem : localPublicKey(opts().dataDir) }));
  if (o.out) writeFileSync(o.out, text);
  else process.stdout.write(text);
});
audit.command('verify').argument('<fileOrRunId>', 'an export file, or a run id in the local store')
  .option('--public-key <pem-or-file...>', 'pin a public key (PEM text or file; repeat for rotated keys; else GATEHOUSE_AUDIT_PUBLIC_KEY)')
  .option('--fingerprint <keyId...>', "pin a key id: the export header's key is used only if it has this fingerprint")
  .option('--allow-unsealed', 'accept a stream without a seal (an unfinished run): its completeness is then not proven')
  .action(async (target: string, o: { publicKey?: string[]; fingerprint?: string[]; allowUnsealed?: boolean }) => {
    const fromEnv = process.env.GATEHOUSE_AUDIT_PUBLIC_KEY?.trim() ? [process.env.GATEHOUSE_AUDIT_PUBLIC_KEY] : [];
    let publicKeys: string[];
    try {
      publicKeys = readPinnedKeys(o.publicKey ?? fromEnv);
    } catch (error) {
      throw new CliError((error as Error).message, 2);
    }
    const trust = { publicKeys, fingerprints: o.fingerprint ?? [], allowUnsealed: o.allowUnsealed };
    let report;
    let text: string | undefined;
    try { text = readFileSync(target, 'utf8'); } catch { text = undefined; }
    if (text !== undefined) report = verifyExport(text, trust);
    else {
      // The store is no more trusted than a file: only pinned keys count (not the data folder's key file).
      const events = await withStore(storeEnv(), (s) => s.readStream(`run-${target}`));
      if (events.length === 0) throw new CliError(`${target} is neither a readable file nor a run in the store`, 2);
      report = verifyStream(events.map((e) => ({ revision: e.revision, type: e.type, data: e.data, metadata: e.metadata as unknown as Record<string, unknown> })), { ...trust, runId: target });
    }
    // Unsealed (--allow-unsealed): say how much of the stream no signature vouches for, not only that it is unsealed.
    const seal = report.sealed ? 'sealed' : `NOT sealed (completeness not proven; no signature covers the last ${report.unsignedTail} event(s))`;
    if (!report.ok) {
      out(`BROKEN at revision ${report.finding?.revision}: ${report.finding?.kind}: ${report.finding?.reason}`, report);
      process.exitCode = 1;
    } else if (!report.signaturesVerified) {
      // Never a quiet skip: a chain anyone can recompute proves nothing without the signatures.
      out(`signatures not verified: no pinned public key (--public-key, --fingerprint or GATEHOUSE_AUDIT_PUBLIC_KEY); the chain of ${report.events} events is intact, ${seal}`, report);
      process.exitCode = 1;
    } else out(`ok: ${report.events} events, chain intact, ${report.signaturesChecked} signatures valid, ${seal}`, report);
  });
audit.command('key-id').argument('<pem-or-file>', 'a public key').description('the fingerprint that signatures name as their key id')
  .action((value: string) => {
    const ids = readPinnedKeys([value]).map(keyIdOf);
    out(ids.join('\n'), ids);
  });

program.command('store').description('the local store').command('stats').description('events, streams, runs, size').action(async () => {
  const stats = await withStore(storeEnv(), async (s) => {
    let events = 0;
    const streams = new Set<string>();
    const ended: Record<string, number> = {};
    let after: string | undefined;
    for (;;) {
      const page = await s.readAll({ after, maxCount: 5_000 });
      for (const e of page) {
        events++;
        streams.add(e.streamId);
        if (e.type === 'RunCompleted') ended[(e.data as { status: string }).status] = (ended[(e.data as { status: string }).status] ?? 0) + 1;
        if (e.type === 'RunFailed' || e.type === 'RunCancelled') ended[e.type] = (ended[e.type] ?? 0) + 1;
      }
      if (page.length < 5_000) break;
      after = page[page.length - 1]?.position;
    }
    return { events, streams: streams.size, runs: [...streams].filter((x) => x.startsWith('run-')).length, ended, head: await s.headPosition() };
  });
  out(table([{ events: stats.events, streams: stats.streams, runs: stats.runs, ...stats.ended, head: stats.head }]), stats);
});

program.command('projections').description('read models').command('rebuild').argument('[name]', 'one projection (default: all)')
  .action(async (name?: string) => {
    const { ProjectionRunner, allProjections } = await import('../projections/index.js');
    const { createSqliteReadModelStore } = await import('../adapters/readmodels/sqlite-read-model-store.js');
    const { loadConfig } = await import('../orchestrator/config.js');
    // The server's retention applies to a rebuild here too (a bad config stops before anything is touched).
    const days = loadConfig(env.configPath).retention.finishedRunsDays;
    const local = join(opts().dataDir, env.eventStore ? 'local.sqlite' : 'gatehouse.sqlite');
    // On a SQLite log, the runs model replays in a second thread beside the others.
    const { sqliteRebuildWorker } = await import('../adapters/readmodels/rebuild-worker.js');
    const { sqliteStorePath } = await import('../server/env.js');
    const log = env.eventStore ? sqliteStorePath(env.eventStore) : local;
    const rebuildWorker = log === undefined ? undefined : sqliteRebuildWorker({ eventStorePath: log, readModelsPath: local });
    await withStore(storeEnv(), async (store) => {
      const readModels = createSqliteReadModelStore({ path: local });
      const failures: unknown[] = [];
      const runner = new ProjectionRunner({ store, readModels, projections: allProjections, rebuildWorker, retention: days === undefined ? undefined : { finishedRunsDays: days }, onFollowError: (e) => failures.push(e) });
      let last = 0;
      let events = 0;
      await runner.rebuild(name, (p) => {
        events = p.events;
        const now = Date.now();
        if (!opts().json && (now - last > 200 || p.done)) {
          last = now;
          process.stderr.write(`\r${p.projections.join(', ')}: ${p.events.toLocaleString('en-US')} events, ${Math.round(p.eventsPerSecond).toLocaleString('en-US')}/s`);
        }
      });
      if (!opts().json) process.stderr.write('\n');
      readModels.close();
      // The retention sweep after the rebuild reports its failure instead of throwing it.
      if (failures.length > 0) throw new CliError(`rebuilt, but retention failed: ${failures.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`);
      const kept = days === undefined ? '' : `; finished runs that ended over ${days} days ago dropped (retention)`;
      out(`rebuilt ${name ?? 'all read models'} from ${events.toLocaleString('en-US')} events${kept}`, { rebuilt: name ?? 'all', events, ...(days === undefined ? {} : { retentionDays: days }) });
    });
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof CliError) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`gatehouse: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
