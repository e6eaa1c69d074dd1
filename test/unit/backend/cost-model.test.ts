// The wasm backend's split decision (src/backend/wasm/cost-model.ts): no hand-off below the
// break-even, no chunk smaller than a hand-off's worth of work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HandoffCost,
  HANDOFF_MICROS,
  PROBE_EVERY,
  splitChunks,
  WORK_PER_MICRO,
} from '../../../src/backend/wasm/cost-model.js';

const rate = WORK_PER_MICRO.gemm;

test('one thread never splits', () => {
  assert.equal(splitChunks('gemm', 1e12, 1, 8), 1);
});

test('work below the break-even (2 hand-offs on 2 threads) runs on one thread', () => {
  const breakEven = 2 * HANDOFF_MICROS * rate;
  assert.equal(splitChunks('gemm', breakEven, 2, 4), 1);
  assert.equal(splitChunks('gemm', breakEven * 0.5, 2, 4), 1);
  assert.ok(splitChunks('gemm', breakEven * 1.01, 2, 4) >= 2);
});

test('chunks carry at least a hand-off of work and stop at the cap', () => {
  const work = 3.5 * HANDOFF_MICROS * rate;
  const chunks = splitChunks('gemm', work, 4, 8);
  assert.equal(chunks, 3);
  assert.ok(work / rate / chunks >= HANDOFF_MICROS);
  assert.equal(splitChunks('gemm', 1e12, 2, 4), 4);
});

test("the ViT's attention products (9.5 MFLOP batched, 36 MFLOP) still split on 2 threads", () => {
  assert.equal(splitChunks('gemm', 9469952, 2, 4), 4);
  assert.equal(splitChunks('gemm', 35651584, 2, 4), 4);
});

test('a measured hand-off cost stops mid-size splits, probes now and then, and recovers', () => {
  const cost = new HandoffCost();
  const work = 40 * HANDOFF_MICROS * rate; // splits at the nominal cost
  assert.equal(cost.chunks('gemm', work, 2, 4), 4);
  for (let i = 0; i < 40; i++) cost.record(100 * HANDOFF_MICROS); // helpers descheduled: long waits
  const picks = Array.from({ length: 2 * PROBE_EVERY }, () => cost.chunks('gemm', work, 2, 4));
  assert.equal(picks.filter((c) => c > 1).length, 2, 'only the probes split');
  for (let i = 0; i < 80; i++) cost.record(HANDOFF_MICROS / 2); // the machine calms down
  assert.equal(cost.chunks('gemm', work, 2, 4), 4);
});
