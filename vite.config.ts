// Vite build of the browser lab (src/web) into dist/web, which `dropout-lab lab` serves.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('./src/web', import.meta.url)),
  base: './',
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The lab server's CSP allows no inline scripts; the polyfill is not needed by current browsers.
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 2048,
  },
  worker: { format: 'es' },
});
