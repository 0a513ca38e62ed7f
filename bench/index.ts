/**
 * `npm run bench -- <area> [...]`: runs the named benchmark areas and prints their tables.
 * With no area, lists them.
 */
const areas: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  store: () => import('./store.js'),
  esdb: () => import('./esdb.js'),
  engine: () => import('./engine.js'),
  approvals: () => import('./approvals.js'),
  audit: () => import('./audit.js'),
  projections: () => import('./projections.js'),
  api: () => import('./api.js'),
  mcp: () => import('./mcp.js'),
  console: () => import('./console.js'),
  instances: () => import('./instances.js'),
  cluster: () => import('./cluster.js'),
  history: () => import('./history.js'),
  curves: () => import('./curves.js'),
};

const requested = process.argv.slice(2);
if (requested.length === 0) {
  console.log(`usage: npm run bench -- <area> [...]\nareas: ${Object.keys(areas).join(', ')}`);
  process.exit(2);
}
for (const name of requested) {
  const load = areas[name];
  if (!load) {
    console.error(`unknown benchmark area "${name}"; areas: ${Object.keys(areas).join(', ')}`);
    process.exit(2);
  }
  const area = await load();
  await area.run();
}
