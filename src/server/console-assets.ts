import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler } from 'express';

/**
 * Where the built console is: `dist/console` beside the compiled server (dist/src/server → dist/console),
 * or, when the server runs from its TypeScript sources (tests), the repository's `dist/console`.
 */
export function defaultConsoleDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const compiled = join(here, '..', '..', 'console');
  return here.split(/[\\/]/).includes('dist') ? compiled : join(here, '..', '..', 'dist', 'console');
}

/** Paths the API owns: never answered with the console's page. */
const API_PATHS = /^\/(graphql|mcp|metrics|healthz)(\/|$)/;

/**
 * Security headers for the console's page and assets: no framing (an approve button must not be
 * clickjacked), no referrer (an approval id in the URL stays here), scripts only from this origin,
 * and the API reachable only on this origin (HTTP and WebSocket: CSP3's 'self' covers ws/wss of this
 * host; `ws: wss:` would have let a script open a socket to any host and send the token there).
 */
const HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

/**
 * Serves the console: its hashed assets (cached for a year), and its page for every other GET that
 * asks for HTML, so `/approvals/<id>` and `/runs/<id>` survive a reload. Not built: a page that says
 * how to build it.
 */
export function consoleHandlers(dir = defaultConsoleDir()): RequestHandler[] {
  const index = join(dir, 'index.html');
  const headers: RequestHandler = (_req, res, next) => {
    for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value);
    next();
  };
  const assets = express.static(dir, {
    index: false,
    fallthrough: true,
    setHeaders: (res, path) => res.setHeader('cache-control', path.includes(`${join(dir, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache'),
  });
  const page: RequestHandler = (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || API_PATHS.test(req.path) || !req.accepts('html')) return next();
    if (req.path.startsWith('/assets/')) return next(); // a missing asset is a 404, not the page
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('The console is not built: run `npm run build` (or `npm start`, which builds it).\n');
      return;
    }
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(index);
  };
  return [headers, assets, page];
}
