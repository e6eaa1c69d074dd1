// What an installer and a bundler see: the published package.json (no install-time scripts, a lean
// dependency list, a `default` export condition for require()), the CLI package that owns the
// command line's dependencies, the built dist/ (CommonJS require, source maps with their sources,
// the fast backend on first use) and a browser build (no Node-only module, one chunk per kernel variant).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBestBackend, isSoftwareAdapter, describeAdapter } from '../../src/backend/auto.js';
import { inspectInstall, installOffline } from '../helpers/offlineInstall.js';

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

  it('depends only on the two small pure packages its data loader needs, with no peers to report unmet', () => {
    // xz-decompress (WebAssembly) and modern-tar unpack the Debian archive's Fashion-MNIST package in
    // dropout-lab/node; nothing else, and nothing native, is installed with the library. The CLI's
    // libraries belong to dropout-lab-cli: as optional peers here they printed UNMET lines in `npm ls`.
    assert.deepEqual(Object.keys((pkg['dependencies'] ?? {}) as Record<string, string>).sort(), [
      'modern-tar',
      'xz-decompress',
    ]);
    assert.equal(pkg['peerDependencies'], undefined);
    assert.equal(pkg['optionalDependencies'], undefined);
  });

  it('names its repository, so the README links work on the registry page', () => {
    assert.match(JSON.stringify(pkg['repository']), /github\.com\/dropout-lab\/dropout-lab/);
    assert.match(String(pkg['homepage']), /^https:\/\//);
  });

  it('has a README of a few screens whose links work on the registry page (absolute, no repository paths)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.ok(readme.split('\n').length <= 250, `${readme.split('\n').length} lines`);
    const relative = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1]!)
      .filter((target) => !/^(https?:|mailto:|#)/.test(target));
    assert.deepEqual(relative, []);
  });

  it('is an npm workspace with the CLI, so `npx dropout-lab` works in the repository after `npm ci`', () => {
    assert.deepEqual(pkg['workspaces'], ['packages/cli']);
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
  it("has the library's version and dependencies, and the queue (bullmq, ioredis) only as an optional extra", () => {
    // It carries its own build of the engine beside the CLI (scripts/pack-cli.mjs), so it needs what
    // the library needs; the queue's libraries bring a native addon and an install script, so they
    // are optional peers that `worker`/`--queue` ask for.
    assert.equal(cli['version'], pkg['version']);
    const deps = cli['dependencies'] as Record<string, string>;
    for (const [name, range] of Object.entries(pkg['dependencies'] as Record<string, string>)) {
      assert.equal(deps[name], range, `${name} ${range}`);
    }
    const devDeps = pkg['devDependencies'] as Record<string, string>;
    const peers = cli['peerDependencies'] as Record<string, string>;
    const meta = cli['peerDependenciesMeta'] as Record<string, { optional?: boolean }>;
    assert.deepEqual(Object.keys(peers).sort(), ['bullmq', 'ioredis']);
    for (const name of ['bullmq', 'ioredis']) {
      assert.ok(!(name in deps), `${name} is not a dependency`);
      assert.equal(meta[name]?.optional, true, `${name} is optional`);
      assert.equal(peers[name], devDeps[name], `${name}: the range the repository tests`);
    }
    for (const [name, range] of Object.entries(deps)) {
      if (name in devDeps) assert.equal(range, devDeps[name], `${name}: the range the repository tests`);
    }
  });

  it('renders PNGs with WebAssembly, not a per-platform native binary', () => {
    const deps = cli['dependencies'] as Record<string, string>;
    assert.ok('@resvg/resvg-wasm' in deps);
    assert.ok(!Object.keys(deps).some((d) => d === '@resvg/resvg-js' || d.startsWith('@resvg/resvg-js-')));
  });

  it('provides the dropout-lab command from its own dist/, or the repository build in the workspace', () => {
    const bin = (cli['bin'] as Record<string, string>)['dropout-lab']!;
    assert.match(readFileSync(join(ROOT, 'packages/cli', bin), 'utf8'), /'\.\.\/dist\/cli\/main\.js'/);
    assert.equal((pkg['exports'] as Json)['./cli'], undefined, 'the library does not export the CLI');
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

describe('the packed tarballs, installed offline into an empty project', { skip: builtSkip }, () => {
  // What a user gets: `npm pack` of both packages (from the current build), then `npm ci --offline`
  // of each into its own empty project with the repository's locked versions (test/helpers/offlineInstall.ts).
  let tmp = '';
  const packed: Record<'lib' | 'cli', { tgz: string; files: string[] }> = {
    lib: { tgz: '', files: [] },
    cli: { tgz: '', files: [] },
  };
  const pack = (cwd: string): { tgz: string; files: string[] } => {
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
    return { tgz: join(tmp, info!.filename), files: info!.files.map((f) => f.path) };
  };
  const manifestOf = (tgz: string): Json & { name: string } =>
    JSON.parse(execFileSync('tar', ['-xOzf', tgz, 'package/package.json'], { encoding: 'utf8' })) as Json & {
      name: string;
    };
  const project = (name: string, which: readonly ('lib' | 'cli')[]): string => {
    const dir = join(tmp, name);
    mkdirSync(dir);
    const tarballs = which.map((w) => ({ tgz: packed[w].tgz, manifest: manifestOf(packed[w].tgz) }));
    installOffline(dir, tarballs, join(ROOT, 'package-lock.json'));
    return dir;
  };

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'dropout-lab-pack-'));
    packed.lib = pack(ROOT);
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'pack-cli.mjs')], { cwd: ROOT, stdio: 'ignore' });
    packed.cli = pack(join(ROOT, 'packages', 'cli'));
  });
  after(() => {
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  it('the library tarball holds the library: no CLI, lab page, experiments, queue or source maps', () => {
    const files = packed.lib.files;
    assert.ok(
      files.includes('dist/index.js') && files.includes('dist/node.d.ts'),
      files.slice(0, 5).join(' '),
    );
    for (const f of files) {
      assert.doesNotMatch(f, /^dist\/(cli|experiments|queue|run|web)\//, f);
      assert.doesNotMatch(f, /\.map$/, f);
    }
    // Every module imports only the library's own dependencies and Node's built-ins.
    const own = new Set(Object.keys(pkg['dependencies'] as Record<string, string>));
    for (const f of files.filter((p) => p.endsWith('.js'))) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      for (const m of text.matchAll(/(?:^|\s)(?:from|import)\s*\(?\s*'([^'.][^']*)'/gm)) {
        const name = m[1]!.startsWith('@') ? m[1]!.split('/').slice(0, 2).join('/') : m[1]!.split('/')[0]!;
        assert.ok(
          name.startsWith('node:') || own.has(name) || name === pkg['name'] || name === 'webgpu',
          `${f} imports ${m[1]}`,
        );
      }
    }
  });

  it('the library installs its own dependencies only: 0 native binaries, 0 install scripts, no UNMET', () => {
    const dir = project('library', ['lib']);
    const got = inspectInstall(dir);
    assert.deepEqual(got.packages, ['dropout-lab', 'modern-tar', 'xz-decompress']);
    assert.deepEqual(got.nativeBinaries, []);
    assert.deepEqual(got.installScripts, []);
    const ls = execFileSync('npm', ['ls', '--all'], { cwd: dir, encoding: 'utf8' });
    assert.doesNotMatch(ls, /UNMET/, ls);
  });

  it('strict consumers type-check: skipLibCheck off, node10/node16/bundler resolution, with and without lib.dom', () => {
    const dir = join(tmp, 'library');
    writeFileSync(
      join(dir, 'consumer.ts'),
      [
        "import { createBestBackend, dropout, manualSeed, nn, saveSafetensors, tensor } from 'dropout-lab';",
        "import { loadFashionMNIST, saveSafetensorsFile } from 'dropout-lab/node';",
        "import { philox4x32 } from 'dropout-lab/internals';",
        'manualSeed(0);',
        'const x = dropout(tensor([1, 2, 3]), 0.5, { training: true });',
        'const bytes: Uint8Array = saveSafetensors(new nn.Linear(2, 2));',
        'void [x, bytes, createBestBackend, loadFashionMNIST, saveSafetensorsFile, philox4x32];',
        '',
      ].join('\n'),
    );
    // A browser app: lib.dom, no Node types, only the browser entry.
    writeFileSync(
      join(dir, 'browser.ts'),
      "import { tensor, nn, createBestBackend } from 'dropout-lab';\nvoid [tensor, nn, createBestBackend];\n",
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const settings = [
      { moduleResolution: 'node10', module: 'commonjs' },
      { moduleResolution: 'node16', module: 'node16' },
      { moduleResolution: 'bundler', module: 'esnext' },
    ];
    for (const { moduleResolution, module } of settings) {
      for (const dom of [false, true]) {
        const compilerOptions = {
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          skipLibCheck: false,
          target: 'ES2022',
          module,
          moduleResolution,
          lib: dom ? ['ES2022', 'DOM'] : ['ES2022'],
          types: dom ? [] : ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        };
        const files = dom ? ['browser.ts'] : ['consumer.ts'];
        writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
        const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' });
        assert.equal(run.status, 0, `${moduleResolution}, ${dom ? 'lib.dom' : 'no lib.dom'}:\n${run.stdout}`);
      }
    }
  });

  it('the CLI without the queue extra: 0 native binaries, 0 install scripts, runs, and asks for the extra in one line', () => {
    const files = packed.cli.files;
    for (const f of ['bin/dropout-lab.js', 'dist/cli/main.js', 'dist/web/index.html'])
      assert.ok(files.includes(f), f);
    assert.ok(!files.some((f) => f.endsWith('.map') || f.endsWith('.d.ts')), 'no maps or declarations');
    const dir = project('cli', ['cli']);
    const got = inspectInstall(dir);
    assert.deepEqual(got.nativeBinaries, []);
    assert.deepEqual(got.installScripts, []);
    for (const extra of ['bullmq', 'ioredis']) assert.ok(!got.packages.includes(extra), extra);
    const bin = join(dir, 'node_modules', '.bin', 'dropout-lab');
    assert.equal(execFileSync(bin, ['--version'], { cwd: dir, encoding: 'utf8' }).trim(), cli['version']);
    const worker = spawnSync(bin, ['worker', '--queue', 'redis://127.0.0.1:9'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(worker.status, 1, worker.stderr);
    assert.equal(worker.stderr.trim().split('\n').length, 1, worker.stderr);
    assert.match(worker.stderr, /npm install bullmq ioredis/);
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
