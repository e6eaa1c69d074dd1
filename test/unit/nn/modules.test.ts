/**
 * nn modules and the optimiser: Linear initialisation and shapes, LazyLinear, Sequential naming and
 * its Linear+ReLU fusion, train()/eval(), state dicts, gradients (zeroGrad, accumulation) and SGD
 * against PyTorch's update formulas.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArgumentError,
  DropoutMLP,
  Generator,
  ShapeError,
  manualSeed,
  nn,
  optim,
  tensor,
  type Tensor,
} from '../../../src/index.js';
import { linearComposed } from '../../../src/ops/linear.js';

const input = (rows: number, cols: number, seed = 0): Tensor =>
  tensor(
    Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(0.37 * i + seed)),
    { shape: [rows, cols] },
  );

describe('Linear', () => {
  test('weights and bias are U(−1/√in, 1/√in), with the PyTorch [out, in] layout', () => {
    const layer = new nn.Linear(100, 50, { generator: new Generator(1) });
    assert.deepEqual(layer.weight!.shape, [50, 100]);
    assert.deepEqual(layer.bias!.shape, [50]);
    const bound = 1 / Math.sqrt(100);
    for (const p of [layer.weight!, layer.bias!]) {
      const v = p.dataSync();
      assert.ok(
        v.every((x) => Math.abs(x) <= bound),
        'within the bound',
      );
      // Uses the whole range (not, say, U(0, b) or a tiny std).
      assert.ok(Math.max(...v) > 0.8 * bound && Math.min(...v) < -0.8 * bound, 'spans ±bound');
      assert.equal(p.requiresGrad, true);
    }
    const w = layer.weight!.dataSync();
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  });

  test('forward computes x·Wᵀ + b with the right shape', () => {
    const layer = new nn.Linear(3, 2, { generator: new Generator(2) });
    const x = tensor([
      [1, 2, 3],
      [-1, 0, 0.5],
    ]);
    const y = layer.forward(x);
    assert.deepEqual(y.shape, [2, 2]);
    const w = layer.weight!.toArray() as number[][];
    const b = layer.bias!.dataSync();
    const xs = x.toArray() as number[][];
    const ys = y.toArray() as number[][];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++) {
        const expected = xs[i]!.reduce((acc, v, k) => acc + v * w[j]![k]!, b[j]!);
        assert.ok(Math.abs(ys[i]![j]! - expected) < 1e-6);
      }
  });

  test('bias: false has no bias parameter; bad sizes and inputs throw', () => {
    const layer = new nn.Linear(4, 3, { bias: false });
    assert.equal(layer.bias, null);
    assert.deepEqual(
      layer.namedParameters().map(([n]) => n),
      ['weight'],
    );
    assert.throws(() => new nn.Linear(0, 3), ArgumentError);
    assert.throws(() => new nn.Linear(2.5, 3), ArgumentError);
    assert.throws(
      () => layer.forward(input(2, 5)),
      (e: unknown) => e instanceof ShapeError && /\[2, 5\]/.test(e.message),
    );
    assert.throws(() => layer.forward(tensor([1, 2, 3, 4])), ShapeError);
  });

  test('LazyLinear infers inFeatures from the first input', () => {
    const layer = new nn.LazyLinear(5, { generator: new Generator(3) });
    assert.equal(layer.weight, null);
    assert.equal(layer.hasUninitializedParameters(), true);
    assert.deepEqual(layer.parameters(), []);
    const y = layer.forward(input(3, 7));
    assert.deepEqual(y.shape, [3, 5]);
    assert.equal(layer.inFeatures, 7);
    assert.deepEqual(layer.weight!.shape, [5, 7]);
    assert.equal(layer.hasUninitializedParameters(), false);
    assert.ok(layer.weight!.dataSync().every((v) => Math.abs(v) <= 1 / Math.sqrt(7)));
    // Once materialised the size is fixed.
    assert.throws(() => layer.forward(input(3, 8)), ShapeError);
  });
});

describe('Sequential', () => {
  test('parameters are named by index, as in PyTorch', () => {
    const net = new nn.Sequential(
      new nn.Linear(4, 3),
      new nn.ReLU(),
      new nn.Dropout(0.5),
      new nn.Linear(3, 2),
    );
    assert.deepEqual(
      net.namedParameters().map(([n]) => n),
      ['0.weight', '0.bias', '3.weight', '3.bias'],
    );
    const model = new DropoutMLP({ numHiddens1: 4, numHiddens2: 4 });
    model.forward(input(2, 784));
    assert.deepEqual(
      model.namedParameters().map(([n]) => n),
      ['net.1.weight', 'net.1.bias', 'net.4.weight', 'net.4.bias', 'net.7.weight', 'net.7.bias'],
    );
  });

  test('Linear + ReLU runs fused and matches the unfused composition (values and gradients)', () => {
    const g = new Generator(5);
    const l1 = new nn.Linear(6, 8, { generator: g });
    const l2 = new nn.Linear(8, 3, { generator: g });
    const net = new nn.Sequential(l1, new nn.ReLU(), l2);
    const x = input(5, 6, 1);
    const y = net.forward(x);
    // The fusion really happened: the first layer's node is a linear with relu.
    const first = y.node!.inputs[0]!.node!;
    assert.equal(first.prim, 'linear');
    assert.deepEqual(first.attrs, { relu: true });
    const h = y.node!.inputs[0]!.dataSync();
    assert.ok(h.some((v) => v === 0) && h.some((v) => v > 0), 'the ReLU is active on some units');
    y.sum().backward();
    const fusedGrads = net.parameters().map((p) => p.grad!.dataSync());
    net.zeroGrad();

    const yc = linearComposed(linearComposed(x, l1.weight!, l1.bias, { relu: true }), l2.weight!, l2.bias);
    assert.deepEqual(y.dataSync(), yc.dataSync());
    yc.sum().backward();
    net.parameters().forEach((p, i) => {
      const a = fusedGrads[i]!;
      const b = p.grad!.dataSync();
      a.forEach((v, j) => assert.ok(Math.abs(v - b[j]!) <= 1e-6 * (1 + Math.abs(b[j]!)), `param ${i}[${j}]`));
    });
  });

  test('train()/eval() recurse through children and return this; modules start in training mode', () => {
    const inner = new nn.Sequential(new nn.Linear(2, 2), new nn.Dropout(0.3));
    const net = new nn.Sequential(new nn.Flatten(), inner, new nn.ReLU());
    const all = [net, inner, ...inner.layers, ...net.layers];
    assert.ok(all.every((m) => m.training));
    assert.equal(net.eval(), net);
    assert.ok(all.every((m) => !m.training));
    assert.equal(net.train(), net);
    assert.ok(all.every((m) => m.training));
    assert.equal(net.train(false), net);
    assert.ok(all.every((m) => !m.training));
    assert.equal(new DropoutMLP().training, true);
  });

  test('Flatten reshapes [N, …] to [N, ∏…]', () => {
    assert.deepEqual(
      new nn.Flatten().forward(tensor(new Float32Array(24), { shape: [2, 3, 4] })).shape,
      [2, 12],
    );
  });
});

describe('state dicts', () => {
  const make = (seed: number): nn.Sequential =>
    new nn.Sequential(
      new nn.Linear(4, 3, { generator: new Generator(seed) }),
      new nn.ReLU(),
      new nn.Linear(3, 2, { generator: new Generator(seed + 1) }),
    );

  test('roundtrip: a loaded model computes the same outputs; the dict is a copy', () => {
    const a = make(1);
    const b = make(100);
    const x = input(3, 4);
    assert.notDeepEqual(a.forward(x).dataSync(), b.forward(x).dataSync());
    const state = a.stateDict();
    assert.deepEqual(Object.keys(state), ['0.weight', '0.bias', '2.weight', '2.bias']);
    assert.deepEqual(state['0.weight']!.shape, [3, 4]);
    b.loadStateDict(state);
    assert.deepEqual(b.forward(x).dataSync(), a.forward(x).dataSync());
    // Mutating the dict afterwards does not reach either model.
    const before = a.forward(x).dataSync();
    state['0.weight']!.data.fill(42);
    assert.deepEqual(a.forward(x).dataSync(), before);
    assert.deepEqual(b.forward(x).dataSync(), before);
  });

  test('missing / unexpected keys and shape mismatches throw with names', () => {
    const a = make(1);
    const state = a.stateDict();
    const { ['2.bias']: _dropped, ...missing } = state;
    assert.throws(
      () => a.loadStateDict(missing),
      (e: unknown) => e instanceof ArgumentError && /missing keys \[2\.bias\]/.test(e.message),
    );
    assert.throws(
      () => a.loadStateDict({ ...state, extra: { shape: [1], data: new Float32Array(1) } }),
      (e: unknown) => e instanceof ArgumentError && /unexpected keys \[extra\]/.test(e.message),
    );
    assert.throws(
      () => a.loadStateDict({ ...state, '0.weight': { shape: [4, 3], data: new Float32Array(12) } }),
      (e: unknown) =>
        e instanceof ShapeError &&
        /0\.weight/.test(e.message) &&
        /\[4, 3\]/.test(e.message) &&
        /\[3, 4\]/.test(e.message),
    );
  });
});

describe('gradients and SGD', () => {
  test('zeroGrad resets gradients to null; backward without zeroGrad accumulates', () => {
    const layer = new nn.Linear(3, 2, { generator: new Generator(4) });
    const x = input(4, 3);
    assert.equal(layer.weight!.grad, null);
    layer.forward(x).sum().backward();
    const once = layer.weight!.grad!.dataSync();
    assert.ok(once.some((v) => v !== 0));
    layer.forward(x).sum().backward();
    const twice = layer.weight!.grad!.dataSync();
    once.forEach((v, i) =>
      assert.ok(Math.abs(twice[i]! - 2 * v) <= 1e-6 * (1 + Math.abs(v)), `element ${i}`),
    );
    // d/db Σ(xWᵀ + b) = number of rows, twice.
    assert.deepEqual([...layer.bias!.grad!.dataSync()], [8, 8]);
    layer.zeroGrad();
    assert.equal(layer.weight!.grad, null);
    assert.equal(layer.bias!.grad, null);
    layer.forward(x).sum().backward();
    assert.deepEqual(layer.weight!.grad!.dataSync(), once);
  });

  /** Runs `steps` SGD steps on loss = Σ c ⊙ w (so the gradient is always c) and returns w. */
  function runSgd(opts: optim.SGDOptions, w0: number[], c: number[], steps: number): Float32Array {
    const w = tensor(w0, { requiresGrad: true });
    const sgd = new optim.SGD([w], opts);
    const ct = tensor(c);
    for (let s = 0; s < steps; s++) {
      sgd.zeroGrad();
      w.mul(ct).sum().backward();
      sgd.step();
    }
    return w.dataSync();
  }

  /** PyTorch's torch.optim.SGD (dampening 0, no Nesterov) in float64. */
  function pytorchSgd(
    lr: number,
    momentum: number,
    wd: number,
    w0: number[],
    c: number[],
    steps: number,
  ): number[] {
    const w = [...w0];
    let buf: number[] | null = null;
    for (let s = 0; s < steps; s++) {
      const d = w.map((wi, i) => c[i]! + wd * wi);
      if (momentum !== 0) buf = buf === null ? d : buf.map((b, i) => momentum * b + d[i]!);
      const step = momentum !== 0 ? buf! : d;
      for (let i = 0; i < w.length; i++) w[i]! -= lr * step[i]!;
    }
    return w;
  }

  const w0 = [0.5, -1.25, 2, 0.125];
  const c = [1, -0.5, 0.25, 3];
  for (const [name, opts] of [
    ['plain SGD', { lr: 0.1 }],
    ['momentum 0.9', { lr: 0.05, momentum: 0.9 }],
    ['weight decay 0.01', { lr: 0.1, weightDecay: 0.01 }],
    ['momentum 0.9 + weight decay 0.1', { lr: 0.05, momentum: 0.9, weightDecay: 0.1 }],
  ] as const) {
    test(`SGD step equals the PyTorch update: ${name}`, () => {
      for (const steps of [1, 3]) {
        const got = runSgd(opts, w0, c, steps);
        const want = pytorchSgd(
          opts.lr,
          'momentum' in opts ? opts.momentum : 0,
          'weightDecay' in opts ? opts.weightDecay : 0,
          w0,
          c,
          steps,
        );
        want.forEach((v, i) =>
          assert.ok(Math.abs(got[i]! - v) < 1e-6, `${steps} steps, w[${i}]: ${got[i]} vs ${v}`),
        );
      }
    });
  }

  test('SGD skips parameters without a gradient and validates its options', () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const sgd = new optim.SGD([a, b], { lr: 0.5, momentum: 0.5 });
    a.sum().backward();
    sgd.step();
    assert.deepEqual([...a.dataSync()], [0.5, 1.5]);
    assert.deepEqual([...b.dataSync()], [3, 4]);
    for (const bad of [
      { lr: 0 },
      { lr: -1 },
      { lr: Number.NaN },
      { lr: 0.1, momentum: 1 },
      { lr: 0.1, weightDecay: -1 },
    ])
      assert.throws(() => new optim.SGD([a], bad), ArgumentError, JSON.stringify(bad));
  });
});

describe('modules written with PyTorch habits', () => {
  class Net extends nn.Module {
    fc = new nn.Linear(4, 3);
    drop = new nn.Dropout(0.5);
    heads = [new nn.Linear(3, 2), new nn.Linear(3, 1)];
    forward(X: Tensor): Tensor {
      return this.heads[0]!.forward(this.drop.forward(this.fc.forward(X)));
    }
  }

  test('fields register children and parameters in declaration order; train()/eval() recurse', () => {
    const net = new Net();
    assert.deepEqual(
      net.namedParameters().map(([n]) => n),
      ['fc.weight', 'fc.bias', 'heads.0.weight', 'heads.0.bias', 'heads.1.weight', 'heads.1.bias'],
    );
    assert.deepEqual(
      net.namedChildren().map(([n]) => n),
      ['fc', 'drop', 'heads.0', 'heads.1'],
    );
    net.eval();
    assert.ok(
      net.modules().every((m) => !m.training),
      'eval() reaches every field',
    );
    assert.deepEqual(
      Object.keys(net.stateDict()),
      net.namedParameters().map(([n]) => n),
    );
    // A tensor field with requiresGrad is a parameter (nn.Parameter); a shared module counts once.
    class Tied extends nn.Module {
      scale = tensor([2]);
      a = new nn.Linear(2, 2);
      b = this.a;
      constructor() {
        super();
        this.scale.requiresGrad = true;
      }
      forward(X: Tensor): Tensor {
        return this.b.forward(this.a.forward(X)).mul(this.scale);
      }
    }
    assert.deepEqual(
      new Tied().namedParameters().map(([n]) => n),
      ['scale', 'a.weight', 'a.bias'],
    );
  });

  test('an optimiser given no parameters is an error with a stable code', () => {
    assert.throws(
      () => new optim.SGD([], { lr: 0.1 }),
      (e: unknown) =>
        e instanceof ArgumentError && e.code === 'ERR_NO_PARAMETERS' && /registerModule/.test(e.message),
    );
  });

  test('lazy layers load a state dict without a forward pass', () => {
    const trained = new nn.Sequential(new nn.Linear(5, 4), new nn.ReLU(), new nn.Linear(4, 2));
    const lazy = new nn.Sequential(new nn.LazyLinear(4), new nn.ReLU(), new nn.LazyLinear(2));
    assert.ok(lazy.hasUninitializedParameters());
    lazy.loadStateDict(trained.stateDict());
    assert.ok(!lazy.hasUninitializedParameters());
    const X = tensor(
      Float32Array.from({ length: 10 }, (_, i) => i / 10 - 0.3),
      { shape: [2, 5] },
    );
    assert.deepEqual(lazy.forward(X).toArray(), trained.forward(X).toArray());
    const wrong = new nn.Sequential(new nn.LazyLinear(3));
    assert.throws(() => wrong.loadStateDict(new nn.Sequential(new nn.Linear(5, 4)).stateDict()), ShapeError);
  });

  test('MC dropout draws fresh masks on every predict call unless a seed is given', () => {
    manualSeed(0);
    const model = new nn.Sequential(new nn.Linear(6, 8), new nn.Dropout(0.5), new nn.Linear(8, 3));
    const X = tensor(
      Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)),
      { shape: [4, 6] },
    );
    const probs = (opts: nn.PredictOptions): string =>
      JSON.stringify(nn.predict(model, X, opts).probs.toArray());
    assert.notEqual(probs({ mcSamples: 5 }), probs({ mcSamples: 5 }));
    assert.equal(probs({ mcSamples: 5, seed: 7 }), probs({ mcSamples: 5, seed: 7 }));
    const g = new Generator(1);
    assert.notEqual(probs({ mcSamples: 5, generator: g }), probs({ mcSamples: 5, generator: g }));
    assert.equal(
      probs({ mcSamples: 5, generator: new Generator(1) }),
      probs({ mcSamples: 5, generator: new Generator(1) }),
    );
  });
});
