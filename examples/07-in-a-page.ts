/**
 * Using the library in a page: examples/07-in-a-page/index.html loads main.ts, which imports
 * 'dropout-lab' like any package. This serves the page with Vite on http://127.0.0.1:5173 (Ctrl-C to
 * stop); `--quick` only builds it into a temporary folder and checks the bundle, then exits.
 *
 *   npx tsx examples/07-in-a-page.ts [--quick]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, createServer, type InlineConfig } from 'vite';

const root = fileURLToPath(new URL('./07-in-a-page', import.meta.url));
const library = fileURLToPath(new URL('../dist/index.js', import.meta.url));
if (!existsSync(library)) throw new Error(`${library} is missing; run npm run build first.`);
// In your own project 'dropout-lab' resolves from node_modules; inside this repository it is the build.
const config: InlineConfig = {
  root,
  configFile: false,
  logLevel: 'warn',
  resolve: { alias: { 'dropout-lab': library } },
  build: { target: 'es2022' },
};

if (process.argv.includes('--quick')) {
  const outDir = await mkdtemp(join(tmpdir(), 'dropout-lab-page-'));
  try {
    // logLevel error: the wasm backend's Node host is left out of the bundle on purpose (the page never loads it).
    await build({ ...config, logLevel: 'error', build: { ...config.build, outDir, emptyOutDir: true } });
    const assets = await readdir(join(outDir, 'assets'));
    if (!existsSync(join(outDir, 'index.html')) || !assets.some((f) => f.endsWith('.js'))) {
      throw new Error('the page did not build');
    }
    console.log(`built the page: index.html and ${assets.length} assets`);
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
} else {
  const server = await createServer({ ...config, server: { host: '127.0.0.1', port: 5173 } });
  await server.listen();
  server.printUrls();
}
