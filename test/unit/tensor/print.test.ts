/**
 * Tensors print their values as PyTorch does (the expected strings are torch 2.x's repr of the same
 * values), summarised past 1,000 elements; console.log shows them too, and JSON.stringify/tolist
 * give the nested values (issue 25, item 5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { arange, nn, tensor } from '../../../src/index.js';

test('values print as torch.Tensor.__repr__ writes them', () => {
  const cases: [ReturnType<typeof tensor>, string][] = [
    [
      tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      'tensor([[1., 2., 3.],\n        [4., 5., 6.]])',
    ],
    [tensor([1.5, -2.25, 3]), 'tensor([ 1.5000, -2.2500,  3.0000])'],
    [tensor([1e-5, 1, 1000]), 'tensor([1.0000e-05, 1.0000e+00, 1.0000e+03])'],
    [tensor(3.5), 'tensor(3.5000)'],
    [tensor([NaN, Infinity, -1.5]), 'tensor([    nan,     inf, -1.5000])'],
    [
      arange(30).div(7),
      'tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,\n' +
        '        1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000, 2.1429, 2.2857, 2.4286,\n' +
        '        2.5714, 2.7143, 2.8571, 3.0000, 3.1429, 3.2857, 3.4286, 3.5714, 3.7143,\n' +
        '        3.8571, 4.0000, 4.1429])',
    ],
    [
      arange(24).reshape(2, 3, 4),
      'tensor([[[ 0.,  1.,  2.,  3.],\n         [ 4.,  5.,  6.,  7.],\n         [ 8.,  9., 10., 11.]],\n\n' +
        '        [[12., 13., 14., 15.],\n         [16., 17., 18., 19.],\n         [20., 21., 22., 23.]]])',
    ],
  ];
  for (const [t, expected] of cases) assert.equal(t.toString(), expected);
});

test('int32 tensors print their integers plainly, as torch prints integer tensors (argmax, labels)', () => {
  const x = tensor(
    [
      [1, 2],
      [3, 40],
    ],
    { dtype: 'int32' },
  );
  assert.equal(x.toString(), 'tensor([[ 1,  2],\n        [ 3, 40]])');
  assert.equal(
    tensor([-1, 0, 12345678], { dtype: 'int32' }).toString(),
    'tensor([      -1,        0, 12345678])',
  );
  assert.equal(tensor(7, { dtype: 'int32' }).toString(), 'tensor(7)');
  const y = tensor([
    [1, 2],
    [3, 4],
  ]);
  assert.equal(y.argmax(0).toString(), 'tensor([1, 1])');
  assert.equal(inspect(y.max(1).indices), 'tensor([1, 1])');
  // The same whole numbers as float32 keep PyTorch's trailing dot.
  assert.equal(tensor([1, 2]).toString(), 'tensor([1., 2.])');
});

test('past 1,000 elements the print is summarised, and the shape is appended', () => {
  const expected =
    'tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.9700e+02, 9.9800e+02,\n' +
    '         9.9900e+02],\n' +
    '        [1.0000e+03, 1.0010e+03, 1.0020e+03,  ..., 1.9970e+03, 1.9980e+03,\n' +
    '         1.9990e+03]], shape=[2, 1000])';
  assert.equal(String(arange(2000).reshape(2, 1000)), expected);
  const big = String(arange(1200).reshape(20, 60));
  assert.equal(big.split('\n').length, 13);
  assert.match(big, /\n {8}\.\.\.,\n/);
});

test('console.log shows the values (util.inspect), and autograd state follows them', () => {
  const w = tensor([1, 2], { requiresGrad: true });
  assert.equal(inspect(w), 'tensor([1., 2.], requiresGrad=true)');
  assert.equal(inspect({ w }), '{ w: tensor([1., 2.], requiresGrad=true) }');
  assert.equal(String(w.mul(2)), 'tensor([2., 4.], gradFn=<mul>)');
  const gone = tensor([1, 2]);
  gone.dispose();
  assert.equal(String(gone), 'tensor(<disposed>, shape=[2])');
});

test('toJSON and tolist give the nested values', () => {
  assert.equal(
    JSON.stringify({
      t: tensor([
        [1, 2],
        [3, 4],
      ]),
    }),
    '{"t":[[1,2],[3,4]]}',
  );
  assert.deepEqual(tensor([[1.5], [2]]).tolist(), [[1.5], [2]]);
});

test('a module prints its tree as repr(model) does', () => {
  const model = new nn.Sequential(
    new nn.Linear(784, 256),
    new nn.ReLU(),
    new nn.Dropout(0.5),
    new nn.Linear(256, 10),
  );
  assert.equal(
    String(model),
    'Sequential(\n' +
      '  (0): Linear(in_features=784, out_features=256, bias=True)\n' +
      '  (1): ReLU()\n' +
      '  (2): Dropout(p=0.5, inplace=False)\n' +
      '  (3): Linear(in_features=256, out_features=10, bias=True)\n' +
      ')',
  );
  assert.equal(inspect(new nn.ReLU()), 'ReLU()');
});

test('layers print their arguments as PyTorch does', () => {
  assert.equal(
    String(new nn.BatchNorm1d(256)),
    'BatchNorm1d(256, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)',
  );
  assert.equal(String(new nn.LayerNorm(64)), 'LayerNorm((64,), eps=1e-05, elementwise_affine=True)');
  assert.equal(
    String(new nn.MaxPool2d(2)),
    'MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)',
  );
  assert.equal(String(new nn.AvgPool2d(3, { stride: 1 })), 'AvgPool2d(kernel_size=3, stride=1, padding=0)');
  assert.equal(String(new nn.AdaptiveAvgPool2d(1)), 'AdaptiveAvgPool2d(output_size=1)');
});
