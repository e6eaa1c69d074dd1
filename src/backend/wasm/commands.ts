/**
 * The helper threads' commands: the one table both sides of the thread protocol (threads.ts) read,
 * as opcodes.ts is for the kernels' op codes. A row names the kernel export one chunk runs and that
 * kernel's parameters in order, each the name of a command argument or of a chunk value ('i0', 'i1',
 * 'j0', 'j1': the chunk's bounds; 'work': the running thread's workspace); `floats` says which
 * arguments are float64. Everything else follows from the row: the code (the row's position; 0 is
 * EXIT), the argument layout (integers after CTL.ARGS and floats in the Float64 area, each in
 * parameter order), the main thread's typed arguments and chunk call (parallel.ts) and the helpers'
 * dispatch, generated into their source. So adding a command is one row here (and its kernel), and
 * the two sides cannot disagree on a code or a position; the kernel's parameter count is checked by
 * the type of `call`.
 */
import type { Kernels } from './exports.js';

/** Names a kernel parameter may take from the chunk instead of the command's arguments. */
export type ChunkValue = 'i0' | 'i1' | 'j0' | 'j1' | 'work';
const CHUNK_VALUES: readonly ChunkValue[] = ['i0', 'i1', 'j0', 'j1', 'work'];

/** One name per element of tuple T (mapped over a type parameter, so it stays a tuple). */
type Names<T extends readonly unknown[]> = { readonly [P in keyof T]: string };
/** One name per parameter of kernel K: a missing or extra name does not compile. */
type CallOf<K extends keyof Kernels> = Names<Parameters<Kernels[K]>>;

/** A row of the table; see the file comment. */
export interface CommandRow<K extends keyof Kernels = keyof Kernels, C extends CallOf<K> = CallOf<K>> {
  readonly kernel: K;
  readonly call: C;
  readonly floats: readonly string[];
}

function command<
  K extends keyof Kernels,
  const C extends CallOf<K>,
  const F extends readonly Exclude<C[number], ChunkValue>[] = [],
>(kernel: K, call: C, floats?: F): CommandRow<K, C> & { readonly floats: F } {
  return { kernel, call, floats: floats ?? ([] as unknown as F) };
}

const PRODUCT = ['a', 'b', 'c', 'm', 'n', 'k', 'transA', 'transB'] as const;

/**
 * The commands, in code order (code = position + 1). GEMM and SPMM chunks are regions of C (SPMM's
 * are whole rows); BGEMM's are ranges of items, each one whole product; IM2COL's are column rows,
 * COL2IM's images (each thread's float64 accumulator its workspace), MAXPOOL's and MAXPOOLBACKWARD's
 * image planes (n, c), LAYERNORM's rows, SOFTMAX's and SOFTMAXBACKWARD's whole rows (the forward's
 * float64 row of exponentials in the workspace), DIRECTCONV's and DIRECTCONVWEIGHTGRAD's images (each
 * thread's padded image its workspace), CONVUNFOLDED's and CONVUNFOLDEDDX's images and CONVUNFOLDEDDW's
 * image groups (each thread's patch rows, GEMM packing and col2im image its workspace), ATTENTION's and
 * ATTENTIONBACKWARD's (n, h) blocks (each thread's staged kᵀ or vᵀ and score rows its workspace); the
 * rest are element ranges
 * (UNARY, BINARY and WHERE keep their strided odometer in the running thread's workspace).
 */
export const COMMANDS = {
  gemm: command('gemm', [...PRODUCT, 'i0', 'i1', 'j0', 'j1', 'work', 'bias', 'relu']),
  dropout: command(
    'dropout',
    ['x', 'out', 'i0', 'i1', 'k0', 'k1', 'offset', 'threshold', 'scale', 'bits'],
    ['offset', 'scale'],
  ),
  uniform: command('randomUniform', ['out', 'i0', 'i1', 'k0', 'k1', 'offset'], ['offset']),
  sgd: command(
    'sgdStepRange',
    ['w', 'g', 'v', 'i0', 'i1', 'lr', 'momentum', 'weightDecay'],
    ['lr', 'momentum', 'weightDecay'],
  ),
  spmm: command('spmm', [...PRODUCT, 'i0', 'i1', 'work', 'bias', 'relu']),
  dropoutMasked: command('dropoutMasked', ['g', 'out', 'i0', 'i1', 'bits', 'scale'], ['scale']),
  im2col: command('im2col', ['x', 'out', 'geometry', 'padValue', 'i0', 'i1'], ['padValue']),
  col2im: command('col2im', ['cols', 'out', 'geometry', 'i0', 'i1', 'work']),
  bgemm: command('gemmBatch', [...PRODUCT, 'i0', 'i1', 'work']),
  unary: command('unaryRange', ['op', 'x', 'out', 'rank', 'args', 'i0', 'i1', 'work']),
  binary: command('binaryRange', ['op', 'a', 'b', 'out', 'rank', 'args', 'i0', 'i1', 'work']),
  where: command('whereRange', ['c', 'a', 'b', 'out', 'rank', 'args', 'i0', 'i1', 'work']),
  maxPool: command('maxPool2d', ['x', 'out', 'indices', 'geometry', 'i0', 'i1']),
  maxPoolBackward: command('maxPool2dBackward', ['dy', 'indices', 'dx', 'geometry', 'i0', 'i1']),
  layerNorm: command(
    'layerNorm',
    ['x', 'gamma', 'beta', 'out', 'mean', 'rstd', 'cols', 'eps', 'i0', 'i1'],
    ['eps'],
  ),
  layerNormBackward: command('layerNormBackward', [
    'g',
    'x',
    'gamma',
    'mean',
    'rstd',
    'dx',
    'gxhat',
    'cols',
    'i0',
    'i1',
  ]),
  softmax: command('softmax', ['x', 'out', 'i0', 'i1', 'cols']),
  softmaxBackward: command('softmaxBackward', ['y', 'dy', 'out', 'i0', 'i1', 'cols']),
  directConv: command('directConv2d', ['x', 'w', 'bias', 'out', 'geometry', 'relu', 'i0', 'i1', 'work']),
  directConvWeightGrad: command('directConv2dWeightGrad', [
    'x',
    'dy',
    'reluOut',
    'dwPart',
    'dbPart',
    'geometry',
    'i0',
    'i1',
    'work',
  ]),
  convUnfolded: command('convUnfolded', [
    'x',
    'w',
    'bias',
    'out',
    'geometry',
    'oc',
    'block',
    'relu',
    'i0',
    'i1',
    'work',
  ]),
  convUnfoldedDx: command('convUnfoldedDx', ['dy', 'w', 'dx', 'geometry', 'oc', 'block', 'i0', 'i1', 'work']),
  convUnfoldedDw: command('convUnfoldedDw', [
    'x',
    'dy',
    'dwPart',
    'geometry',
    'oc',
    'block',
    'groupImages',
    'i0',
    'i1',
    'work',
  ]),
  attention: command(
    'attention',
    ['q', 'k', 'v', 'out', 'probs', 'shape', 'scale', 'i0', 'i1', 'work'],
    ['scale'],
  ),
  attentionBackward: command(
    'attentionBackward',
    ['dOut', 'q', 'k', 'v', 'probs', 'dq', 'dk', 'dv', 'shape', 'scale', 'i0', 'i1', 'work'],
    ['scale'],
  ),
} as const;

/** A command's name. */
export type CommandName = keyof typeof COMMANDS;

/** The arguments of command N by name (what the main thread passes to Parallel.chunks). */
export type CommandArgs<N extends CommandName> = {
  readonly [A in Exclude<(typeof COMMANDS)[N]['call'][number], ChunkValue>]: number;
};

/** The code helpers read from CTL.CMD to stop. */
export const EXIT_CODE = 0;

/** Each command's code: its row's position + 1. */
export const COMMAND_CODES = Object.fromEntries(
  Object.keys(COMMANDS).map((name, i) => [name, i + 1]),
) as Readonly<Record<CommandName, number>>;

/** Where a command's arguments sit: integer words after CTL.ARGS and Float64 slots, in order. */
export interface CommandLayout {
  readonly ints: readonly string[];
  readonly floats: readonly string[];
}

/** The layout of `row`: its non-chunk parameters split by kind, each in parameter order. */
export function commandLayout(row: CommandRow): CommandLayout {
  const args = row.call.filter((p) => !(CHUNK_VALUES as readonly string[]).includes(p));
  return {
    ints: args.filter((p) => !row.floats.includes(p)),
    floats: args.filter((p) => row.floats.includes(p)),
  };
}

/** The values of one chunk: its bounds and the running thread's workspace. */
export type ChunkValues = Readonly<Record<ChunkValue, number>>;

/** Runs one chunk of `row` on this thread: its kernel with `args` and `chunk` in parameter order. */
export function runChunk(
  k: Kernels,
  row: CommandRow,
  args: Readonly<Record<string, number>>,
  chunk: ChunkValues,
): void {
  const values = row.call.map((p) => (p in chunk ? chunk[p as ChunkValue] : args[p]!));
  (k[row.kernel] as (...values: number[]) => void)(...values);
}

/**
 * JavaScript for the helpers' dispatch (threads.ts): one branch per command calling its kernel on
 * `k` with integers from `I[A + i]`, floats from `F[i]` and the chunk values by their names.
 */
export function helperDispatchSource(): string {
  const branches = Object.values(COMMANDS).map((row: CommandRow, i) => {
    const { ints, floats } = commandLayout(row);
    const value = (p: string): string =>
      (CHUNK_VALUES as readonly string[]).includes(p)
        ? p
        : floats.includes(p)
          ? `F[${floats.indexOf(p)}]`
          : `I[A + ${ints.indexOf(p)}]`;
    return `if (cmd === ${i + 1}) k.${row.kernel}(${row.call.map(value).join(', ')});`;
  });
  return branches.join('\n      else ');
}
