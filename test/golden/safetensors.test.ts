/**
 * safetensors: the exact layout, malformed input refused with one line, and both directions proven
 * against PyTorch (/usr/bin/python3 + torch): weights saved here give PyTorch the same logits, and
 * weights made in PyTorch give the same logits here. With CI=true a missing PyTorch is a failure.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, DropoutMLP, DropoutMLPScratch, manualSeed, MLP, tensor, zeros } from '../../src/index.js';
import { loadSafetensors, saveSafetensors } from '../../src/nn/safetensors.js';
import * as files from '../../src/node/safetensorsFile.js';
import * as nodeEntry from '../../src/node.js';
import type { Module } from '../../src/nn/module.js';
import { randomArray } from '../helpers/testData.js';

const PYTHON = '/usr/bin/python3';
const HELPER = join(import.meta.dirname, '..', 'helpers', 'safetensors_torch.py');

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dropout-lab-safetensors-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A file by hand: header text (padded to 8 by the caller or not) and raw data bytes. */
function raw(header: string, data: Uint8Array = new Uint8Array(0), length?: bigint): Uint8Array {
  const h = enc(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

test('the layout: LE header length, JSON header padded with spaces to 8 bytes, F32 data in name order', () => {
  const bytes = saveSafetensors(
    { b: { shape: [2], data: Float32Array.of(3, 4) }, a: { shape: [1, 2], data: Float32Array.of(1, 2) } },
    { format: 'pt' },
  );
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, 'the data starts 8-byte aligned');
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.match(text, /^\{.*\} *$/);
  assert.deepEqual(JSON.parse(text), {
    __metadata__: { format: 'pt' },
    a: { dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] },
    b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
  });
  assert.deepEqual([...new Float32Array(bytes.slice(8 + n).buffer)], [1, 2, 3, 4]);
  const back = loadSafetensors(bytes);
  assert.deepEqual(back.metadata, { format: 'pt' });
  assert.deepEqual(back.tensors['a'], { shape: [1, 2], data: Float32Array.of(1, 2) });
  assert.deepEqual(back.tensors['b'], { shape: [2], data: Float32Array.of(3, 4) });
  // Unpadded headers and scalar tensors are valid too.
  const scalar = loadSafetensors(
    raw('{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}', new Uint8Array(Float32Array.of(7).buffer)),
  );
  assert.deepEqual(scalar.tensors['s'], { shape: [], data: Float32Array.of(7) });
});

test('a model saves under its PyTorch state_dict names and loads back bit for bit', () => {
  for (const [Model, names] of [
    [DropoutMLP, ['net.1.bias', 'net.1.weight', 'net.4.bias', 'net.4.weight', 'net.7.bias', 'net.7.weight']],
    [DropoutMLPScratch, ['lin1.bias', 'lin1.weight', 'lin2.bias', 'lin2.weight', 'lin3.bias', 'lin3.weight']],
    [MLP, ['net.1.bias', 'net.1.weight', 'net.3.bias', 'net.3.weight', 'net.5.bias', 'net.5.weight']],
  ] as const) {
    manualSeed(1);
    const model: Module = new Model({ numHiddens1: 8, numHiddens2: 4 });
    model.eval().forward(zeros([1, 1, 28, 28]));
    const { tensors } = loadSafetensors(saveSafetensors(model));
    assert.deepEqual(Object.keys(tensors).sort(), names);
    const copy: Module = new Model({ numHiddens1: 8, numHiddens2: 4 });
    copy.eval().forward(zeros([1, 1, 28, 28]));
    copy.loadStateDict(tensors);
    assert.deepEqual(copy.stateDict(), model.stateDict());
  }
});

test('malformed files are refused with one line naming the problem', () => {
  const f32 = (n: number): Uint8Array => new Uint8Array(n * 4);
  const t = (info: string): string => `{"w":${info}}`;
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['short', new Uint8Array(5), /5 bytes, fewer than the 8-byte header length/],
    ['huge header', raw('{}', undefined, 200_000_000n), /exceeds the 100000000-byte limit/],
    ['header past end', raw('{}', undefined, 64n), /header length 64 runs past the end/],
    ['not JSON', raw('{"w": '), /not UTF-8 JSON/],
    ['not an object', raw('[1]'), /does not start with "\{"/],
    ['bad utf-8', raw('{"\xff"}').map((b, i) => (i === 10 ? 0xff : b)), /not UTF-8 JSON/],
    [
      'F16',
      raw(t('{"dtype":"F16","shape":[2],"data_offsets":[0,4]}'), f32(1)),
      /dtype "F16" \(a string\); only F32/,
    ],
    [
      'bad shape',
      raw(t('{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}'), f32(1)),
      /shape \[-1\] \(an array\)/,
    ],
    [
      'bad offsets',
      raw(t('{"dtype":"F32","shape":[1],"data_offsets":[4,0]}'), f32(1)),
      /data_offsets \[4, 0\]/,
    ],
    [
      'size mismatch',
      raw(t('{"dtype":"F32","shape":[2],"data_offsets":[0,4]}'), f32(1)),
      /\(8 bytes\) but data_offsets span 4/,
    ],
    [
      'overlap',
      raw(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        f32(2),
      ),
      /"b" overlaps/,
    ],
    [
      'hole',
      raw(t('{"dtype":"F32","shape":[1],"data_offsets":[4,8]}'), f32(2)),
      /hole in the data before tensor "w"/,
    ],
    ['truncated', raw(t('{"dtype":"F32","shape":[2],"data_offsets":[0,8]}'), f32(1)), /need 8 \(truncated\)/],
    ['trailing bytes', raw(t('{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'), f32(2)), /cover only 4/],
    ['metadata', raw('{"__metadata__":{"epochs":10}}'), /"__metadata__"."epochs" is 10, not a string/],
  ];
  for (const [what, bytes, pattern] of cases) {
    assert.throws(
      () => loadSafetensors(bytes, 'w.safetensors'),
      (e: unknown) =>
        e instanceof DataError &&
        !e.message.includes('\n') &&
        e.message.startsWith('w.safetensors is not a valid safetensors file: ') &&
        pattern.test(e.message),
      what,
    );
  }
});

test('files: atomic save, and read errors name the file', async () => {
  const path = join(dir, 'w.safetensors');
  await files.saveSafetensorsFile(path, { w: tensor([1, 2, 3], [3]) });
  assert.deepEqual((await files.loadSafetensorsFile(path)).tensors['w']!.data, Float32Array.of(1, 2, 3));
  await assert.rejects(
    files.loadSafetensorsFile(join(dir, 'missing.safetensors')),
    /Cannot read .*missing\.safetensors/,
  );
  await assert.rejects(
    files.saveSafetensorsFile(join(dir, 'no', 'such', 'dir.safetensors'), { w: tensor([1]) }),
    /Cannot write/,
  );
});

test('one name, one signature: the Node entry names its file helpers apart from the bytes ones', () => {
  assert.equal(typeof nodeEntry.saveSafetensorsFile, 'function');
  assert.equal(typeof nodeEntry.loadSafetensorsFile, 'function');
  assert.ok(!('saveSafetensors' in nodeEntry) && !('loadSafetensors' in nodeEntry));
});

// ---- PyTorch as the oracle ----

const torchCheck = existsSync(PYTHON)
  ? spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' })
  : undefined;
const hasTorch = torchCheck?.status === 0;
const inCI = process.env['CI'] === 'true';
const needsTorch = {
  skip: hasTorch || inCI ? false : `${PYTHON} with torch is absent (apt-get install python3-torch)`,
};

function python(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [HELPER, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`python exited ${code}: ${stderr}`)),
    );
  });
}

const N = 32;
const X = randomArray(N * 784, 12, 0, 1);

async function ourLogits(model: Module): Promise<Float32Array> {
  return model
    .eval()
    .forward(tensor(X, [N, 1, 28, 28]))
    .dataSync();
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

const ARCHS = [
  ['dropout-mlp', DropoutMLP],
  ['dropout-mlp-scratch', DropoutMLPScratch],
  ['mlp', MLP],
] as const;

test(
  'PyTorch round trip: weights saved here give PyTorch the same logits, and back',
  needsTorch,
  async (t) => {
    assert.ok(hasTorch, `${PYTHON} -c "import torch" failed: ${torchCheck?.stderr ?? 'no python3'}`);
    const xPath = join(dir, 'x.f32');
    await writeFile(xPath, X);
    const path = (arch: string, what: string): string => join(dir, `${arch}.${what}`);
    const mine = new Map<string, Float32Array>();
    const jobs: string[][] = [];
    for (const [arch, Model] of ARCHS) {
      // Here → PyTorch: our seeded model, saved; PyTorch loads it (strict names and shapes) and runs X.
      manualSeed(3);
      const model: Module = new Model();
      mine.set(arch, await ourLogits(model));
      await files.saveSafetensorsFile(path(arch, 'ours.safetensors'), model, { format: 'pt' });
      jobs.push([
        'logits',
        arch,
        path(arch, 'ours.safetensors'),
        xPath,
        String(N),
        path(arch, 'torch-on-ours.f32'),
      ]);
      // PyTorch → here: a seeded torch model, saved by PyTorch's side with its logits.
      jobs.push([
        'make',
        arch,
        '7',
        path(arch, 'torch.safetensors'),
        xPath,
        String(N),
        path(arch, 'torch.f32'),
      ]);
    }
    const batch = join(dir, 'jobs.jsonl');
    await writeFile(batch, jobs.map((j) => JSON.stringify(j)).join('\n'));
    await python(['batch', batch]);
    const f32 = async (file: string): Promise<Float32Array> =>
      new Float32Array((await readFile(file)).buffer.slice(0));
    for (const [arch, Model] of ARCHS) {
      const toTorch = maxAbsDiff(mine.get(arch)!, await f32(path(arch, 'torch-on-ours.f32')));
      const { tensors, metadata } = await files.loadSafetensorsFile(path(arch, 'torch.safetensors'));
      assert.deepEqual(metadata, { format: 'pt' });
      const fresh: Module = new Model();
      fresh.eval().forward(zeros([1, 1, 28, 28]));
      fresh.loadStateDict(tensors);
      const fromTorch = maxAbsDiff(await ourLogits(fresh), await f32(path(arch, 'torch.f32')));
      t.diagnostic(
        `${arch}: max |logit difference| here → PyTorch ${toTorch.toExponential(2)}, PyTorch → here ${fromTorch.toExponential(2)}`,
      );
      // float32 sums of 784 and 256 products in another order: a few ulps of logits of size ~1.
      assert.ok(toTorch < 1e-4, `${arch} here → PyTorch: ${toTorch}`);
      assert.ok(fromTorch < 1e-4, `${arch} PyTorch → here: ${fromTorch}`);
    }
  },
);
