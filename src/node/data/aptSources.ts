/**
 * Finds the Debian archive's base URL in the machine's own apt configuration, so the repository never
 * names a mirror host: the machine already knows which mirror it may reach. Node-only (reads /etc/apt).
 * Both formats apt reads are understood: one-line `deb URI SUITE COMPONENT…` in *.list files and the
 * deb822 paragraphs (`Types:`, `URIs:`, `Suites:`, `Components:`, `Enabled:`) of *.sources files.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Environment variable naming the Debian archive's base URL (e.g. a local mirror); overrides apt's. */
export const DEBIAN_MIRROR_ENV = 'DROPOUT_LAB_DEBIAN_MIRROR';

/** One binary-package source as apt sees it. */
export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
}

/** Parses a one-line-format sources file (`deb [options] URI SUITE COMPONENT…`); deb-src lines are skipped. */
export function parseSourcesList(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    // Options sit in one bracketed group right after the type; they never name the archive.
    const words = line.replace(/\[[^\]]*\]/, ' ').split(/\s+/);
    const [type, uri, suite, ...components] = words;
    if (type !== 'deb' || uri === undefined || suite === undefined) continue;
    out.push({ uri, suites: [suite], components });
  }
  return out;
}

/** Parses a deb822 `.sources` file: paragraphs of `Field: value` lines, continuation lines indented. */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const raw of paragraph.split('\n')) {
      if (raw.startsWith('#')) continue;
      if (/^\s/.test(raw) && last !== undefined) {
        fields.set(last, `${fields.get(last) ?? ''} ${raw.trim()}`);
        continue;
      }
      const match = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(raw);
      if (match === null) continue;
      last = match[1]!.toLowerCase();
      fields.set(last, match[2]!.trim());
    }
    const list = (name: string): string[] => (fields.get(name) ?? '').split(/\s+/).filter((w) => w !== '');
    if (!list('types').includes('deb')) continue;
    if (/^(no|false|0)$/i.test(fields.get('enabled') ?? 'yes')) continue;
    for (const uri of list('uris')) out.push({ uri, suites: list('suites'), components: list('components') });
  }
  return out;
}

/**
 * Whether a source is Debian's main archive: its path has a `debian` segment (as every Debian mirror
 * and snapshot does; `debian-security` and third-party repositories do not), and it serves `main` for
 * a suite that is not a security suite. The pool is shared by all suites, so any of them will do.
 */
export function isDebianMainArchive(source: AptSource): boolean {
  let url: URL;
  try {
    url = new URL(source.uri);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (!url.pathname.split('/').includes('debian')) return false;
  return source.components.includes('main') && source.suites.some((suite) => !suite.includes('security'));
}

/** Every source apt reads, in apt's order: sources.list, then sources.list.d/*.list|*.sources by name. */
export async function readAptSources(aptDir = '/etc/apt'): Promise<AptSource[]> {
  const out: AptSource[] = [];
  const read = async (path: string): Promise<string | undefined> => {
    try {
      return await readFile(path, 'utf8');
    } catch {
      return undefined; // a missing or unreadable file is not a source
    }
  };
  const main = await read(join(aptDir, 'sources.list'));
  if (main !== undefined) out.push(...parseSourcesList(main));
  let names: string[] = [];
  try {
    names = (await readdir(join(aptDir, 'sources.list.d'))).sort();
  } catch {
    // No sources.list.d: only sources.list counts.
  }
  for (const name of names) {
    const isList = name.endsWith('.list');
    if (!isList && !name.endsWith('.sources')) continue;
    const text = await read(join(aptDir, 'sources.list.d', name));
    if (text === undefined) continue;
    out.push(...(isList ? parseSourcesList(text) : parseDeb822Sources(text)));
  }
  return out;
}

/**
 * The Debian archive's base URL (ending in `/`): $DROPOUT_LAB_DEBIAN_MIRROR when set, else the first
 * Debian main archive entry of the apt configuration, else undefined.
 */
export async function debianMirror(
  env: NodeJS.ProcessEnv = process.env,
  aptDir = '/etc/apt',
): Promise<string | undefined> {
  const fromEnv = env[DEBIAN_MIRROR_ENV];
  const uri =
    fromEnv !== undefined && fromEnv !== ''
      ? fromEnv
      : (await readAptSources(aptDir)).find(isDebianMainArchive)?.uri;
  if (uri === undefined) return undefined;
  return uri.endsWith('/') ? uri : `${uri}/`;
}
