// What an installer and a bundler see: the published package.json (no install-time scripts, a lean
// dependency list, a `default` export condition for require()), the CLI package that owns the
// command line's dependencies, the built dist/ (CommonJS require, source maps with their sources,
// the fast backend on first use) and a browser build (no Node-only module, one chunk per kernel variant).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBestBackend, isSoftwareAdapter, describeAdapter } from '../../src/backend/auto.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CI = process.env['CI'] === 'true';
type Json = Record<string, unknown>;
const readJson = (path: string): Json => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Json;
const pkg = readJson('package.json');
const cli = readJson('packages/cli/package.json');
const builtSkip =
  existsSync(join(ROOT, 'dist', 'index.js')) || CI ? false : 'dist/ is not built (npm run build)';

describe('package.json of dropout-lab', () => {
  it('runs nothing at install (npm 11 flags prepare/install scripts)', () => {
    const scripts = pkg['scripts'] as Record<string, string>;
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare', 'preprepare', 'postprepare']) {
      assert.equal(scripts[hook], undefined, `no "${hook}" script`);
    }
  });

  it('depends only on the two small pure packages its data loader needs; the CLI stack is optional peers', () => {
    // xz-decompress (WebAssembly) and modern-tar unpack the Debian archive's Fashion-MNIST package in
    // dropout-lab/node; nothing else, and nothing native, is installed with the library.
    assert.deepEqual(Object.keys((pkg['dependencies'] ?? {}) as Record<string, string>).sort(), [
      'modern-tar',
      'xz-decompress',
    ]);
    const peers = pkg['peerDependencies'] as Record<string, string>;
    const meta = pkg['peerDependenciesMeta'] as Record<string, { optional?: boolean }>;
    for (const name of Object.keys(peers)) assert.equal(meta[name]?.optional, true, `${name} is optional`);
    for (const name of ['vega', 'vega-lite', 'commander', 'cli-progress']) assert.ok(name in peers, name);
  });

  it('gives every export a `default` condition, so require() works on Node >= 20.19', () => {
    const exportsMap = pkg['exports'] as Record<string, string | Record<string, string>>;
    for (const [path, target] of Object.entries(exportsMap)) {
      if (typeof target === 'string') continue;
      assert.ok(target['default'] !== undefined, `${path} has a default condition`);
    }
    assert.match((pkg['engines'] as Record<string, string>)['node']!, /^>=20\.19/);
  });
});

describe('packages/cli (dropout-lab-cli)', () => {
  it('depends on this version of the library and on every CLI peer with the same range', () => {
    const deps = cli['dependencies'] as Record<string, string>;
    assert.equal(deps['dropout-lab'], pkg['version']);
    assert.equal(cli['version'], pkg['version']);
    const peers = pkg['peerDependencies'] as Record<string, string>;
    for (const [name, range] of Object.entries(peers)) {
      if (name === 'webgpu') continue; // the GPU backend's, not the CLI's
      assert.equal(deps[name], range, `${name} ${range}`);
    }
  });

  it('renders PNGs with WebAssembly, not a per-platform native binary', () => {
    const deps = cli['dependencies'] as Record<string, string>;
    assert.ok('@resvg/resvg-wasm' in deps);
    assert.ok(!Object.keys(deps).some((d) => d === '@resvg/resvg-js' || d.startsWith('@resvg/resvg-js-')));
  });

  it('provides the dropout-lab command from dropout-lab/cli', () => {
    const bin = (cli['bin'] as Record<string, string>)['dropout-lab']!;
    assert.match(readFileSync(join(ROOT, 'packages/cli', bin), 'utf8'), /import 'dropout-lab\/cli';/);
    assert.ok((pkg['exports'] as Json)['./cli'] !== undefined);
  });
});

describe('built package', { skip: builtSkip }, () => {
  it("require('dropout-lab') from CommonJS works and picks the wasm backend on first use", () => {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        "const dl = require('dropout-lab'); const t = dl.tensor([1, 2, 3]);" +
          'const b = dl.getBackend(); console.log(b.name, t.mul(t).sum().item());' +
          "dl.setBackend(new dl.ReferenceBackend()); console.log(dl.getBackend().name, typeof require('dropout-lab/node').loadFashionMNIST);",
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.deepEqual(out.trim().split('\n'), ['wasm 14', 'js function']);
  });

  it('ships source maps that embed their sources', () => {
    const map = JSON.parse(readFileSync(join(ROOT, 'dist', 'index.js.map'), 'utf8')) as Json;
    const content = map['sourcesContent'] as string[] | undefined;
    assert.ok(content !== undefined && content[0]!.includes('export'), 'sourcesContent is embedded');
  });
});

describe('browser build of the lab', () => {
  it('has no Node-only module or warning, and one chunk per kernel variant', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'dropout-lab-vite-'));
    try {
      const log = execFileSync(
        process.execPath,
        [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', outDir, '--emptyOutDir'],
        { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      assert.doesNotMatch(log, /externalized|warning/i, log);
      const assets = readdirSync(join(outDir, 'assets'));
      assert.ok(!assets.some((f) => f.startsWith('node-host')), assets.join(' '));
      const simd = assets.filter((f) => f.startsWith('kernels-simd'));
      const relaxed = assets.filter((f) => f.startsWith('kernels-relaxed'));
      assert.equal(simd.length, 1, assets.join(' '));
      assert.equal(relaxed.length, 1, assets.join(' '));
      // Neither variant's bytes sit in any other chunk (each is fetched only when it runs): look
      // for 64 base64 characters from the middle of each (the variants share their first bytes).
      const prefix = (f: string): string => {
        const b64 = /[A-Za-z0-9+/]{10000,}/.exec(readFileSync(join(outDir, 'assets', f), 'utf8'))![0];
        return b64.slice(b64.length >> 1, (b64.length >> 1) + 64);
      };
      const marks = [prefix(simd[0]!), prefix(relaxed[0]!)];
      for (const f of assets.filter((a) => a.endsWith('.js') && !a.startsWith('kernels-'))) {
        const text = readFileSync(join(outDir, 'assets', f), 'utf8');
        for (const m of marks) assert.ok(!text.includes(m), `${f} does not inline a kernel variant`);
      }
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});

describe('the selection rule', () => {
  const adapter = (facts: object): GPUAdapter => facts as unknown as GPUAdapter;

  it('treats fallback and software adapters as software, hardware ones not', () => {
    assert.equal(isSoftwareAdapter(adapter({ info: { isFallbackAdapter: true, vendor: 'x' } })), true);
    assert.equal(isSoftwareAdapter(adapter({ isFallbackAdapter: true, info: {} })), true);
    assert.equal(
      isSoftwareAdapter(adapter({ info: { vendor: 'google', architecture: 'swiftshader' } })),
      true,
    );
    assert.equal(
      isSoftwareAdapter(adapter({ info: { vendor: 'mesa', device: 'llvmpipe (LLVM 15)' } })),
      true,
    );
    assert.equal(isSoftwareAdapter(adapter({ info: { description: 'lavapipe' } })), true);
    assert.equal(
      isSoftwareAdapter(
        adapter({ info: { vendor: 'microsoft', description: 'Microsoft Basic Render Driver' } }),
      ),
      true,
    );
    assert.equal(isSoftwareAdapter(adapter({ info: { vendor: 'nvidia', architecture: 'ada' } })), false);
    assert.equal(describeAdapter(adapter({ info: { vendor: 'nvidia', architecture: 'ada' } })), 'nvidia ada');
  });

  it('gives the backend asked for, and wasm where SIMD runs', async () => {
    const js = await createBestBackend({ prefer: 'js' });
    assert.equal(js.backend.name, 'js');
    const best = await createBestBackend();
    assert.equal(best.backend.name, 'wasm', 'Node has SIMD and no navigator.gpu');
    (best.backend as unknown as { dispose(): void }).dispose();
  });
});
