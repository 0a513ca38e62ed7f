/**
 * `npm start`: the Gatehouse server. Configured by environment: PORT (4000), GATEHOUSE_DATA_DIR
 * (./data), GATEHOUSE_CONFIG (a gatehouse.yaml), GATEHOUSE_EVENTSTORE (esdb://… or sqlite:///abs/path; unset = SQLite in the data dir).
 */
import 'reflect-metadata';
import './node-env.js';
import { pino } from 'pino';
import { onShutdownSignals } from '../orchestrator/shutdown.js';
import { startGatehouse } from './app.js';
import { readEnv } from './env.js';
import { exitOnUnhandled, startOrExit } from './fatal.js';

const env = readEnv();
const log = pino({ level: env.logLevel, base: { service: 'gatehouse' } });
exitOnUnhandled(log);
const app = await startOrExit(startGatehouse({ env, log }));
onShutdownSignals(app.stop, (message) => log.info(message));

const url = `http://${env.host ?? 'localhost'}:${app.server.port}/graphql`;
log.info({ url, dataDir: env.dataDir, store: env.eventStore ?? 'sqlite', config: env.configPath }, 'gatehouse listening');
if (app.adminToken?.created) {
  // Printed once, at the first start: it is also in the file, readable by this user only.
  process.stdout.write(`\nAdmin token (shown once; stored in ${app.adminToken.path}):\n\n  ${app.adminToken.token}\n\n`);
} else if (app.adminToken) {
  log.info({ file: app.adminToken.path }, 'admin token in file');
}
// Before the ready line (which tests and scripts wait for), so a newcomer sees where to click.
process.stdout.write(`the operator console: ${url.replace(/graphql$/, '')}\n`);
process.stdout.write(`gatehouse ready on ${url}\n`);
