/**
 * PyTorch's "Tensors" tutorial (Learn the Basics, tensorqs_tutorial) in dropout-lab, section by section:
 * initialising a tensor, its attributes, operations (indexing and slicing, joining, arithmetic, single
 * elements), in-place operations (there are none here), and the bridge to typed arrays (NumPy's place).
 * Tensors print as PyTorch prints them, with the same values for the same code but the random ones
 * (this library's Philox streams are not torch's generator); integer tensors are int32 here, int64 there.
 * Nothing trains, so `--quick` (which the test suite passes to every example) changes nothing.
 *
 *   npx tsx examples/tensor-basics.ts [--quick]
 */
import { arange, cat, getBackend, manualSeed, ones, rand, stack, tensor, where, zeros } from 'dropout-lab';

manualSeed(0);

// ---- Initializing a Tensor ----

// Directly from data: the element type is float32 unless asked (torch infers int64 from integers; here
// integers are int32, the one integer type, used for labels and indices).
const data = [
  [1, 2],
  [3, 4],
];
const x_data = tensor(data, { dtype: 'int32' });
console.log(`x_data: \n ${x_data} \n`);

// From a typed array (NumPy's place in JavaScript): torch.from_numpy(np_array). The values are copied
// into the backend's memory, not shared with the array (see the bridge below).
const np_array = Int32Array.from(data.flat());
const x_np = tensor(np_array, { shape: [2, 2], dtype: 'int32' });
console.log(`x_np: \n ${x_np} \n`);

// From another tensor: torch.ones_like(x_data) and torch.rand_like(x_data, dtype=torch.float) are the
// creation functions given the other tensor's shape (and dtype, to retain it).
const x_ones = ones(x_data.shape, { dtype: x_data.dtype });
console.log(`Ones Tensor: \n ${x_ones} \n`);
const x_rand = rand(x_data.shape); // float32: overrides the datatype of x_data
console.log(`Random Tensor: \n ${x_rand} \n`);

// With random or constant values, from a shape (an array: zeros([2, 3]), not zeros(2, 3)).
const shape = [2, 3];
const rand_tensor = rand(shape);
const ones_tensor = ones(shape);
const zeros_tensor = zeros(shape);
console.log(`Random Tensor: \n ${rand_tensor} \n`);
console.log(`Ones Tensor: \n ${ones_tensor} \n`);
console.log(`Zeros Tensor: \n ${zeros_tensor}`);

// ---- Attributes of a Tensor ----

let t = rand([3, 4]);
// torch prints torch.Size([3, 4]), torch.float32 and cpu. A tensor lives on a backend rather than a
// device: the WebAssembly one in Node, WebGPU or the reference backend where chosen with setBackend.
console.log(`Shape of tensor: ${JSON.stringify(t.shape)}`);
console.log(`Datatype of tensor: ${t.dtype}`);
console.log(`Backend tensor is stored on: ${t.backend.name} (the active one: ${getBackend().name})`);

// ---- Operations on Tensors ----

// Indexing and slicing. JavaScript has no t[0] for objects (it is undefined), so each of Python's
// subscripts is a method, a view without a copy: t[0] is select(0, 0), t[:, 0] is select(1, 0),
// t[..., -1] is select(-1, -1), and t[a:b:c] on one dim is slice(dim, a, b, c).
t = ones([4, 4]);
console.log(`First row: ${t.select(0, 0)}`);
console.log(`First column: ${t.select(1, 0)}`);
console.log(`Last column: ${t.select(-1, -1)}`);
// tensor[:, 1] = 0 assigns in place; tensors here are immutable, so the new values are a new tensor:
// where the column index is 1, 0, else the old value (the mask [4] broadcasts over the rows).
t = where(arange(4).eq(1), 0, t);
console.log(`${t}`);
console.log(`Rows 1 to 2, every other column: ${t.slice(0, 1, 3).slice(1, 0, undefined, 2)}`);

// Joining tensors: torch.cat along a dim, and torch.stack along a new one.
const t1 = cat([t, t, t], 1);
console.log(`${t1}`);
console.log(`stack([t, t]).shape: ${JSON.stringify(stack([t, t]).shape)}`);

// Arithmetic operations. Python's `@` is matmul, `.T` is t() (the matrix transpose, a view), `*` is mul;
// there is no `out=` (results are always new tensors).
const y1 = t.matmul(t.t());
const y2 = t.matmul(t.transpose(0, 1));
console.log(`y1: \n ${y1} \n`);
console.log(`y1 equals y2: ${y1.eq(y2).min().item() === 1}`);
const z1 = t.mul(t);
console.log(`z1: \n ${z1} \n`);

// Single-element tensors: aggregate to one value and read it as a JavaScript number with item().
const agg = t.sum();
const agg_item = agg.item();
console.log(agg_item, typeof agg_item);

// In-place operations: torch's add_ (and every op_ with a trailing underscore) changes a tensor's
// storage. dropout-lab has none: an in-place change would discard the history autograd needs, which is
// why PyTorch discourages them too. Reassign instead; the old tensor is freed with its scope.
console.log(`${t} \n`);
t = t.add(5);
console.log(`${t}`);

// ---- More operations ----

// The tutorial points to PyTorch's list of over 100 operations; these are the everyday ones here, with
// PyTorch's names (camelCase for snake_case) and PyTorch's results. Each is differentiable but argmax and
// the masks. docs/from-pytorch.md has the whole table.
const x = tensor([
  [1, -2, 3],
  [4, 5, -6],
]);
console.log(`x.abs().sqrt(): \n ${x.abs().sqrt()} \n`);
console.log(`x.pow(2): \n ${x.pow(2)} \n`);
console.log(`x.sigmoid(): \n ${x.sigmoid()} \n`);
console.log(`x.clamp(-1, 1): \n ${x.clamp(-1, 1)} \n`);
// torch.max(x, 1) is a (values, indices) pair; indices are int32 here (int64 in torch).
const { values, indices } = x.max(1);
console.log(`x.max(1): values=${values}, indices=${indices}`);
console.log(`x.argmax(0): ${x.argmax(0)}`);
console.log(`x.std(1): ${x.std(1)}, x.var(): ${x.var()}`);
console.log(`x.softmax(1): \n ${x.softmax(1)} \n`);
console.log(`x.logsumexp(1): ${x.logsumexp(1)}, x.cumsum(1): \n ${x.cumsum(1)} \n`);
console.log(`x.permute(1, 0): \n ${x.permute(1, 0)} \n`);
console.log(`x.unsqueeze(0).shape: ${JSON.stringify(x.unsqueeze(0).shape)}, x.flatten(): ${x.flatten()}`);
const cols = tensor([2, 0], { dtype: 'int32' });
console.log(`x.indexSelect(1, [2, 0]): \n ${x.indexSelect(1, cols)} \n`);
console.log(`x.gather(1, [[0], [2]]): \n ${x.gather(1, tensor([[0], [2]], { dtype: 'int32' }))} \n`);
console.log(`x.split(2, 1): ${x.split(2, 1).join(', ')}`);
// matmul broadcasts batch dims as torch.matmul does: [2, 3, 4, 5] @ [5, 2] is [2, 3, 4, 2].
console.log(`matmul shape: ${JSON.stringify(ones([2, 3, 4, 5]).matmul(ones([5, 2])).shape)}`);
console.log(`where(x > 0, x, 0): \n ${where(x.gt(0), x, 0)} \n`);

// ---- Bridge with typed arrays (NumPy's place) ----

// Tensor to typed array: dataSync() (CPU backends; `await t.data()` on any) copies the values out, so
// unlike t.numpy() later changes to the tensor do not show in the array, nor the reverse.
const o = ones([5]);
console.log(`t: ${o}`);
const n = o.dataSync();
console.log(`n: ${n.join(', ')}`);
const o2 = o.add(1);
console.log(`t: ${o2}`);
console.log(`n: ${n.join(', ')} (a copy: unchanged)`);

// Typed array to tensor: tensor(n) copies too, so changing the array afterwards leaves the tensor as it was.
const n2 = new Float32Array(5).fill(1);
const from = tensor(n2);
n2.forEach((v, i) => (n2[i] = v + 1));
console.log(`t: ${from}`);
console.log(`n: ${n2.join(', ')}`);
// Nested JavaScript arrays, as torch's tolist():
console.log('tolist():', from.tolist());
