/**
 * The wasm backend's helper-thread commands have one source, src/backend/wasm/commands.ts: codes,
 * argument layouts, the main thread's typed arguments and the helpers' generated dispatch all follow
 * from its rows. Checked here: codes are distinct and never EXIT's, every layout fits the control
 * block, every row's kernel is exported by the built module with as many parameters as the row names,
 * and the helpers' source reads each argument at the position the main thread writes it.
 * (Bit-identical results on 1–16 threads are test/wasm-backend.test.ts's.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kernelBytes, unsharedMemoryVariant } from '../../../src/backend/wasm/binary.js';
import {
  COMMAND_CODES,
  commandLayout,
  COMMANDS,
  EXIT_CODE,
  helperDispatchSource,
  type CommandRow,
} from '../../../src/backend/wasm/commands.js';
import { MAX_MEMORY_PAGES } from '../../../src/backend/wasm/kernels.generated.js';
import { CTL, FLOAT_OFFSET, FLOAT_SLOTS, HELPER_LOOP_SOURCE } from '../../../src/backend/wasm/threads.js';

const rows = Object.entries(COMMANDS) as [keyof typeof COMMANDS, CommandRow][];

describe('helper-thread commands: one table', () => {
  it('codes are the rows in order, distinct, and never EXIT', () => {
    const codes = Object.values(COMMAND_CODES);
    assert.deepEqual(
      codes,
      rows.map((_, i) => i + 1),
    );
    assert.ok(!codes.includes(EXIT_CODE));
    // The order the hand-written codes had (GEMM 1 … BGEMM 9, then the strided elementwise ops, max
    // pooling, LayerNorm, softmax, the direct and the unfolded convolution, attention); a new row appends code 26.
    assert.deepEqual(COMMAND_CODES, {
      gemm: 1,
      dropout: 2,
      uniform: 3,
      sgd: 4,
      spmm: 5,
      dropoutMasked: 6,
      im2col: 7,
      col2im: 8,
      bgemm: 9,
      unary: 10,
      binary: 11,
      where: 12,
      maxPool: 13,
      maxPoolBackward: 14,
      layerNorm: 15,
      layerNormBackward: 16,
      softmax: 17,
      softmaxBackward: 18,
      directConv: 19,
      directConvWeightGrad: 20,
      convUnfolded: 21,
      convUnfoldedDx: 22,
      convUnfoldedDw: 23,
      attention: 24,
      attentionBackward: 25,
    });
  });

  it('every layout fits the control block: integers before the Float64 area, at most FLOAT_SLOTS floats', () => {
    for (const [name, row] of rows) {
      const { ints, floats } = commandLayout(row);
      assert.ok(CTL.ARGS + ints.length <= FLOAT_OFFSET / 4, `${name}: ${ints.length} integer arguments`);
      assert.ok(floats.length <= FLOAT_SLOTS, `${name}: ${floats.length} float arguments`);
      assert.equal(ints.length + floats.length, new Set([...ints, ...floats]).size, `${name}: a name twice`);
      const params: readonly string[] = row.call;
      for (const f of row.floats) assert.ok(params.includes(f), `${name}: float ${f} is no parameter`);
    }
    assert.deepEqual(commandLayout(COMMANDS.dropout), {
      ints: ['x', 'out', 'k0', 'k1', 'threshold', 'bits'],
      floats: ['offset', 'scale'],
    });
  });

  it("every row's kernel is exported by the built kernels, with as many parameters as the row names", async () => {
    const module = await WebAssembly.compile(unsharedMemoryVariant(await kernelBytes('simd')));
    const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_MEMORY_PAGES });
    const exports = (await WebAssembly.instantiate(module, { env: { memory } })).exports;
    for (const [name, row] of rows) {
      const fn = exports[row.kernel];
      assert.equal(typeof fn, 'function', `${name}: no export ${row.kernel}`);
      assert.equal(
        (fn as (...a: number[]) => void).length,
        row.call.length,
        `${name}: ${row.kernel}'s arity`,
      );
    }
  });

  it("the helpers' dispatch reads each argument where the main thread writes it", () => {
    const source = helperDispatchSource();
    assert.ok(HELPER_LOOP_SOURCE.includes(source));
    assert.equal(source.split('\n').length, rows.length);
    assert.match(
      source,
      /^if \(cmd === 1\) k\.gemm\(I\[A \+ 0\], I\[A \+ 1\], I\[A \+ 2\], I\[A \+ 3\], I\[A \+ 4\], I\[A \+ 5\], I\[A \+ 6\], I\[A \+ 7\], i0, i1, j0, j1, work, I\[A \+ 8\], I\[A \+ 9\]\);$/m,
    );
    assert.match(
      source,
      /else if \(cmd === 2\) k\.dropout\(I\[A \+ 0\], I\[A \+ 1\], i0, i1, I\[A \+ 2\], I\[A \+ 3\], F\[0\], I\[A \+ 4\], F\[1\], I\[A \+ 5\]\);$/m,
    );
    assert.match(source, /else if \(cmd === 9\) k\.gemmBatch\(.*, i0, i1, work\);$/m);
    // The generated source is valid JavaScript (the helpers eval it).
    assert.doesNotThrow(() => new Function(`${HELPER_LOOP_SOURCE}; return helperLoop;`));
  });
});
