/**
 * The Fashion-MNIST batches the Trainer sees: pixels scaled to [0, 1], the last partial batch, labels
 * aligned with their images, every example once per epoch and a fresh order every epoch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, d2l } from '../../../src/index.js';

const PIXELS = 784;

/** n images whose pixels all equal the image's index (n ≤ 256) and labels index mod 10. */
function indexed(n: number): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(n * PIXELS);
  for (let i = 0; i < n; i++) images.fill(i, i * PIXELS, (i + 1) * PIXELS);
  return { images, labels: Uint8Array.from({ length: n }, (_, i) => i % 10) };
}

function data(n: number, batchSize: number, seed = 4): d2l.FashionMNIST {
  const train = indexed(n);
  const val = indexed(Math.min(n, 50));
  return new d2l.FashionMNIST(
    { trainImages: train.images, trainLabels: train.labels, testImages: val.images, testLabels: val.labels },
    { batchSize, generator: new Generator(seed) },
  );
}

/** The indices of one epoch's training batches, checking each batch on the way. */
function epochOrder(d: d2l.FashionMNIST): { order: number[]; sizes: number[] } {
  const order: number[] = [];
  const sizes: number[] = [];
  for (const { X, y } of d.trainDataloader()) {
    assert.deepEqual(X.shape.slice(1), [1, 28, 28]);
    const x = X.dataSync();
    const labels = y.dataSync();
    const b = X.shape[0]!;
    sizes.push(b);
    for (let r = 0; r < b; r++) {
      const row = x.subarray(r * PIXELS, (r + 1) * PIXELS);
      const index = Math.round(row[0]! * 255);
      // Scaled to [0, 1] as bytes / 255, the whole row from one image.
      assert.ok(row.every((v) => v === Math.fround(index / 255) && v >= 0 && v <= 1));
      // The label belongs to that image.
      assert.equal(labels[r], index % 10);
      order.push(index);
    }
    X.dispose();
    y.dispose();
  }
  return { order, sizes };
}

test('batches: scaled to [0, 1], labels aligned, the last batch partial, every example once', () => {
  const d = data(250, 64);
  const { order, sizes } = epochOrder(d);
  assert.deepEqual(sizes, [64, 64, 64, 58]);
  assert.equal(d.numTrainBatches, 4);
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    Array.from({ length: 250 }, (_, i) => i),
  );
  // Pixel 255 maps to exactly 1.
  const full = new d2l.FashionMNIST(
    {
      trainImages: new Uint8Array(PIXELS).fill(255),
      trainLabels: Uint8Array.of(3),
      testImages: new Uint8Array(PIXELS),
      testLabels: Uint8Array.of(0),
    },
    { batchSize: 8 },
  );
  // Read inside the loop: a loader may free a batch when the next one is requested.
  for (const batch of full.trainDataloader()) assert.ok(batch.X.dataSync().every((v) => v === 1));
});

test('batches: a fresh order every epoch, the same orders for the same seed', () => {
  const d = data(200, 32);
  const epochs = [epochOrder(d).order, epochOrder(d).order, epochOrder(d).order];
  assert.notDeepEqual(epochs[0], epochs[1]);
  assert.notDeepEqual(epochs[1], epochs[2]);
  assert.notDeepEqual(
    epochs[0],
    Array.from({ length: 200 }, (_, i) => i),
  );
  const again = data(200, 32);
  assert.deepEqual([epochOrder(again).order, epochOrder(again).order, epochOrder(again).order], epochs);
  // Validation batches come in order, unshuffled.
  const val: number[] = [];
  for (const { X, y } of d.valDataloader()) {
    const x = X.dataSync();
    for (let r = 0; r < X.shape[0]!; r++) val.push(Math.round(x[r * PIXELS]! * 255));
    X.dispose();
    y.dispose();
  }
  assert.deepEqual(
    val,
    Array.from({ length: 50 }, (_, i) => i),
  );
});
