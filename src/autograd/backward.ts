/**
 * Reverse-mode accumulation over the recorded tape: a reverse topological walk from the root that
 * applies each node's backward rule and sums gradients (with +=) where paths meet, as in micrograd.
 */
import { DropoutLabError, ShapeError, formatShape } from '../errors.js';
import { afterBackward, keep, noGrad, releaseNode, sweepGraphs, tidy } from '../tensor/engine.js';
import { sameShape } from '../tensor/shape.js';
import { Tensor, type BackwardOptions } from '../tensor/tensor.js';
import { backwardOf } from './primitives.js';

/** dL/dL: ones shaped like the root (what creation.ts's `full` makes; that module imports this one). */
function ones(root: Tensor): Tensor {
  const t = Tensor.uninitialized(root.backend, root.shape);
  t.backend.fill(t.id, t.size, 1);
  return t;
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: deep networks must not overflow the call stack. Two parallel stacks rather than a
  // [tensor, expanded] pair per entry: no array per visited tensor.
  const stack: Tensor[] = [root];
  const expandedAt: boolean[] = [false];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (expandedAt.pop()!) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push(t);
    expandedAt.push(true);
    const inputs = t.node?.inputs;
    if (inputs === undefined) continue;
    for (const input of inputs) {
      if (input.requiresGrad && !seen.has(input)) {
        stack.push(input);
        expandedAt.push(false);
      }
    }
  }
  return order;
}

/**
 * Backpropagates from `root`, accumulating into `.grad` of every leaf that requires gradients; then
 * releases the graph's saved intermediates unless `retainGraph` (see the memory rules in engine.ts).
 */
export function runBackward(root: Tensor, gradient?: Tensor, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new ShapeError(
      'backward(): this tensor does not require gradients; no parameter contributed to it.',
    );
  }
  if (gradient !== undefined && !sameShape(gradient.shape, root.shape)) {
    throw new ShapeError(
      `backward(): gradient shape ${formatShape(gradient.shape)} does not match tensor shape ${formatShape(root.shape)}.`,
    );
  }
  const order = topologicalOrder(root);
  if (order.some((t) => t.node?.released === true)) {
    throw new DropoutLabError(
      'backward(): this graph was already released by an earlier backward(), which frees its saved ' +
        'intermediates; pass { retainGraph: true } to the earlier backward() to run backward through it again ' +
        '(or compute the loss again).',
      { code: 'ERR_GRAPH_RELEASED' },
    );
  }
  sweepGraphs(new Set(order));
  noGrad(() =>
    tidy(() => {
      const grads = new Map<Tensor, Tensor>();
      grads.set(root, gradient ?? ones(root));
      // Gradients handed to a leaf's .grad without a copy; one tensor may back only one leaf.
      const owned = new Set<Tensor>();
      for (let k = order.length - 1; k >= 0; k--) {
        const t = order[k]!;
        const viewed = grads.get(t);
        if (viewed === undefined) continue;
        // A view's adjoint may hand back a view (permute's is a permute): the rules, the kernels they
        // call and the optimisers reading .grad take contiguous storage.
        const g = viewed.packed();
        if (t.node === null) {
          // A leaf: accumulate into .grad, which must outlive this scope.
          const previous = t.grad;
          if (previous === null) {
            // Adopt g when this backward pass made it and no other leaf holds it; copy otherwise.
            const adopt = g !== gradient && !owned.has(g);
            t.grad = keep(adopt ? g : g.detach());
            owned.add(g);
          } else {
            t.grad = keep(previous.add(g));
            previous.dispose();
          }
          continue;
        }
        const node = t.node;
        const inputGrads = backwardOf(node, g, t);
        for (let i = 0; i < node.inputs.length; i++) {
          const input = node.inputs[i]!;
          const gi = inputGrads[i];
          if (gi === null || gi === undefined || !input.requiresGrad) continue;
          if (!sameShape(gi.shape, input.shape)) {
            throw new ShapeError(
              `internal: ${node.prim} backward produced ${formatShape(gi.shape)} for an input of ${formatShape(input.shape)}.`,
            );
          }
          const existing = grads.get(input);
          grads.set(input, existing === undefined ? gi : existing.add(gi));
        }
      }
    }),
  );
  if (opts.retainGraph !== true) for (const t of order) if (t.node !== null) releaseNode(t.node);
  afterBackward(order, opts.retainGraph === true);
}
