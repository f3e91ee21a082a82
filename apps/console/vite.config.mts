import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The console is served by the ledger (and the embedded process) at /console,
 * from dist/apps/console, which tools/build/build.mjs fills (so `npm start`
 * and `npm run build` build it). `npx vite apps/console` serves it with hot
 * reload, proxying the API to a running `npm start` on :8080.
 */
export default defineConfig({
  root: here,
  base: '/console/',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../dist/apps/console', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: Object.fromEntries(['/v1', '/health', '/.well-known', '/docs'].map((p) => [p, 'http://localhost:8080'])),
  },
});
