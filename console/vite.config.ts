import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The console is built into the server's static assets (dist/console), served by Gatehouse on its
 * own port: no CDN, nothing fetched at run time. `npm run dev:console` proxies the API to :4000.
 */
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    proxy: { '/graphql': { target: 'http://localhost:4000', ws: true } },
  },
});
