/**
 * Installs packed tarballs into an empty project as a user would, but offline: the project's lockfile
 * is cut from the repository's own (the same versions and integrity hashes), so `npm ci --offline`
 * takes every dependency from the registry cache that `npm ci` filled here, and nothing is fetched.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, posix } from 'node:path';

/** One package of a v3 lockfile. */
interface LockEntry {
  version?: string;
  integrity?: string;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  bin?: Record<string, string>;
  [key: string]: unknown;
}

/** What an installed project holds. */
export interface InstalledProject {
  /** Folder names under node_modules that are packages (scoped ones as `@scope/name`), nested ones included. */
  readonly packages: string[];
  /** Files, all of node_modules. */
  readonly files: number;
  /** Bytes, all of node_modules. */
  readonly bytes: number;
  /** Native addons (`.node` files). */
  readonly nativeBinaries: string[];
  /** Packages whose package.json runs a script at install (or that need node-gyp). */
  readonly installScripts: string[];
}

const INSTALL_HOOKS = ['preinstall', 'install', 'postinstall'];

/** Where `from` (a lockfile path such as `node_modules/a`) finds `name`: nested first, then further up. */
function locate(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
    if (dir === '') return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

/**
 * Installs the tarballs `tgzs` (their package.json files are read from the tarballs' own folders,
 * `manifests`) into `dir`, with dependencies resolved through the repository lockfile at `lockPath`.
 */
export function installOffline(
  dir: string,
  tarballs: readonly { tgz: string; manifest: LockEntry & { name: string } }[],
  lockPath: string,
): void {
  const rootLock = JSON.parse(readFileSync(lockPath, 'utf8')) as { packages: Record<string, LockEntry> };
  const out: Record<string, LockEntry> = {};
  const deps: Record<string, string> = {};
  const queue: [string, LockEntry][] = [];
  for (const { tgz, manifest } of tarballs) {
    const file = basename(tgz);
    copyFileSync(tgz, join(dir, file));
    deps[manifest.name] = `file:${file}`;
    const entry: LockEntry = {
      version: manifest.version ?? '0.0.0',
      resolved: `file:${file}`,
      ...(manifest.bin === undefined ? {} : { bin: manifest.bin }),
      ...(manifest.dependencies === undefined ? {} : { dependencies: manifest.dependencies }),
      ...(manifest.peerDependencies === undefined ? {} : { peerDependencies: manifest.peerDependencies }),
      ...(manifest.peerDependenciesMeta === undefined
        ? {}
        : { peerDependenciesMeta: manifest.peerDependenciesMeta }),
    };
    out[`node_modules/${manifest.name}`] = entry;
    queue.push([`node_modules/${manifest.name}`, entry]);
  }
  // The closure of what the tarballs need, found where the repository's tree has it.
  while (queue.length > 0) {
    const [at, entry] = queue.pop()!;
    const optionalPeers = entry.peerDependenciesMeta ?? {};
    const wanted = {
      ...entry.dependencies,
      ...entry.optionalDependencies,
      ...Object.fromEntries(
        Object.entries(entry.peerDependencies ?? {}).filter(([n]) => optionalPeers[n]?.optional !== true),
      ),
    };
    for (const name of Object.keys(wanted)) {
      if (tarballs.some((t) => t.manifest.name === name)) continue;
      const found = locate(rootLock.packages, at, name);
      if (found === undefined) throw new Error(`${name} (needed by ${at}) is not in ${lockPath}`);
      if (out[found] !== undefined) continue;
      const copy: LockEntry = { ...rootLock.packages[found] };
      for (const flag of ['dev', 'devOptional', 'peer', 'extraneous']) delete copy[flag];
      out[found] = copy;
      queue.push([found, copy]);
    }
  }
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies: deps }),
  );
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify({
      name: 'consumer',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name: 'consumer', version: '1.0.0', dependencies: deps }, ...out },
    }),
  );
  execFileSync('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Counts what `dir/node_modules` holds. */
export function inspectInstall(dir: string): InstalledProject {
  const packages: string[] = [];
  const nativeBinaries: string[] = [];
  const installScripts: string[] = [];
  let files = 0;
  let bytes = 0;
  const walk = (path: string, rel: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const p = join(path, entry.name);
      const r = posix.join(rel, entry.name);
      if (entry.isDirectory()) walk(p, r);
      else if (entry.isFile()) {
        files++;
        bytes += readFileSync(p).byteLength;
        if (entry.name.endsWith('.node')) nativeBinaries.push(r);
        if (
          entry.name === 'package.json' &&
          /(^|\/)node_modules\/(@[^/]+\/)?[^/@]+\/package\.json$/.test(r)
        ) {
          const name = r.replace(/^.*node_modules\//, '').replace(/\/package\.json$/, '');
          const manifest = JSON.parse(readFileSync(p, 'utf8')) as { scripts?: Record<string, string> };
          packages.push(name);
          const scripts = manifest.scripts ?? {};
          const gyp = existsSync(join(path, 'binding.gyp'));
          if (INSTALL_HOOKS.some((h) => scripts[h] !== undefined) || gyp) installScripts.push(name);
        }
      }
    }
  };
  walk(join(dir, 'node_modules'), 'node_modules');
  return { packages: packages.sort(), files, bytes, nativeBinaries, installScripts };
}
