/**
 * Reads files out of a Debian binary package in-process, without dpkg or root. A `.deb` is an `ar`
 * archive (`debian-binary`, `control.tar.*`, `data.tar.*`); the ar layer is 60-byte headers and is read
 * here, while xz (xz-decompress: xz-embedded compiled to WebAssembly) and tar (modern-tar) are left to
 * well-kept packages rather than hand-written decompressors.
 */
import { unpackTar } from 'modern-tar';
// A webpack-built CommonJS bundle: Node's ESM loader sees only its default export.
import xz from 'xz-decompress';

const { XzReadableStream } = xz;

const AR_MAGIC = '!<arch>\n';
const AR_HEADER = 60;

/** One member of an ar archive: its name and a view of its bytes. */
export interface ArMember {
  name: string;
  data: Uint8Array;
}

const ascii = (bytes: Uint8Array, start: number, length: number): string =>
  String.fromCharCode(...bytes.subarray(start, start + length));

/** Splits an ar archive into its members; throws an Error saying what is wrong with a malformed one. */
export function parseAr(bytes: Uint8Array): ArMember[] {
  if (bytes.length < AR_MAGIC.length || ascii(bytes, 0, AR_MAGIC.length) !== AR_MAGIC) {
    throw new Error('it is not an ar archive (no "!<arch>" magic)');
  }
  const members: ArMember[] = [];
  let offset = AR_MAGIC.length;
  while (offset < bytes.length) {
    if (offset + AR_HEADER > bytes.length)
      throw new Error(`it is truncated inside a member header at byte ${offset}`);
    if (ascii(bytes, offset + 58, 2) !== '`\n') throw new Error(`bad member header at byte ${offset}`);
    // GNU ar ends names with '/'; dpkg-deb writes them space-padded.
    const name = ascii(bytes, offset, 16).trimEnd().replace(/\/$/, '');
    const sizeText = ascii(bytes, offset + 48, 10).trim();
    const size = Number(sizeText);
    if (!/^\d+$/.test(sizeText) || !Number.isSafeInteger(size)) {
      throw new Error(`member ${name} has a bad size field "${sizeText}"`);
    }
    const start = offset + AR_HEADER;
    if (start + size > bytes.length) {
      throw new Error(
        `member ${name} needs ${size} bytes but only ${bytes.length - start} remain (truncated)`,
      );
    }
    members.push({ name, data: bytes.subarray(start, start + size) });
    offset = start + size + (size % 2); // members are padded to an even offset
  }
  return members;
}

/** `./usr/x` and `usr/x` name the same file in a package's data tarball. */
function normalizeTarPath(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
}

/**
 * Extracts the named files (paths as in the package, e.g. `usr/share/…/file.gz`) from a `.deb`'s
 * `data.tar.xz`. Returns a map from each wanted path that was present to its bytes; the caller decides
 * what a missing one means. Throws an Error describing a malformed package.
 */
export async function extractDebFiles(
  deb: Uint8Array,
  wanted: readonly string[],
): Promise<Map<string, Uint8Array>> {
  const members = parseAr(deb);
  const data = members.find((m) => m.name.startsWith('data.tar'));
  if (data === undefined) {
    throw new Error(
      `it has no data.tar member (members: ${members.map((m) => m.name).join(', ') || 'none'})`,
    );
  }
  if (data.name !== 'data.tar.xz')
    throw new Error(`its data member is ${data.name}; only data.tar.xz is supported`);
  const want = new Set(wanted.map(normalizeTarPath));
  const compressed = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(data.data);
      controller.close();
    },
  });
  let entries;
  try {
    entries = await unpackTar(new XzReadableStream(compressed), {
      filter: (header) => header.type === 'file' && want.has(normalizeTarPath(header.name)),
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`its data.tar.xz cannot be unpacked (${reason.replace(/\s+/g, ' ')})`, { cause: err });
  }
  const out = new Map<string, Uint8Array>();
  for (const entry of entries) {
    if (entry.data !== undefined) out.set(normalizeTarPath(entry.header.name), entry.data);
  }
  return out;
}
