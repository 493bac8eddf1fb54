/**
 * Vite build of the web console (docs/console.md): `npx vite build --config console/vite.config.ts`
 * (part of `npm run build`) bundles console/ into dist/console/, which the API server serves at `/`.
 * `npx vite --config console/vite.config.ts` serves it for development, proxying `/v2` to a
 * running server (CEJOBS_URL, default http://127.0.0.1:7373).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  publicDir: path.join(here, 'public'),
  plugins: [react()],
  build: {
    outDir: path.resolve(here, '../dist/console'),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { '/v2': { target: process.env.CEJOBS_URL ?? 'http://127.0.0.1:7373', changeOrigin: true } },
  },
});
