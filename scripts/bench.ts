/**
 * `npm run bench`: dropout-lab against PyTorch, TensorFlow.js and jax-js on the book's dropout MLP
 * and plain MLP (784→256→256→10, dropout 0.5/0.5, batch 256, SGD lr 0.1) on real Fashion-MNIST,
 * plus the wasm engine's GEMM throughput against the measured SIMD peak, dropout's share of a step,
 * a determinism check (1 thread against 2, 3 and 4), a training step in Chromium next to Node's,
 * (with --soak) RSS over a 20-epoch run, and (with --scale, alone) the cost as the model and batch
 * grow.
 *
 * Every system runs in its own process (peer), loads the data and builds the model before it is
 * timed, and trains only when told, one peer at a time, round-robin epoch by epoch, so all see the
 * same machine state. Usage:
 *   node --import tsx scripts/bench.ts [--epochs N] [--quick|--full] [--skip torch,tfjs-cpu,...] [--soak] [--json]
 *   node --import tsx scripts/bench.ts --profile vit [--threads N] [--steps N] [--clock cpu]
 * The default run takes about 5 minutes (the slow peers, the CNN and the ViT on capped steps);
 * --full trains whole epochs. Run with --help for the system and section names.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatTable } from '../src/cli/format.js';
import { loadFashionMNIST, loadFashionMnistRaw } from '../src/node.js';
import { setBackend } from '../src/tensor/engine.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import {
  checkThreadDeterminism,
  measureDropoutShare,
  median,
  slope,
  type Determinism,
  type DropoutShare,
} from './bench-lib/analysis.js';
import { browserVsNode, type BrowserVsNode } from './bench-lib/browser.js';
import { benchGemms, gemmVariants, STEP_GEMMS, type GemmResult } from './bench-lib/gemm.js';
import { measurePeak, type SimdPeak } from './bench-lib/peak.js';
import { Peer } from './bench-lib/peers.js';
import { profileStep, type ProfileClock, type StepProfile } from './bench-lib/profile.js';
import {
  BOOK,
  type EpochReply,
  type HParams,
  type ModelKind,
  type NodePeerSpec,
} from './bench-lib/protocol.js';

const SYSTEMS = [
  'wasm-2t',
  'wasm-1t',
  'wasm-2t-dense',
  'js',
  'webgpu',
  'torch',
  'torch-cuda',
  'tfjs-wasm',
  'tfjs-cpu',
  'jaxjs',
] as const;
type SystemId = (typeof SYSTEMS)[number];
const SECTIONS = ['gemm', 'dropout-share', 'determinism', 'browser'] as const;
const MODELS: readonly ModelKind[] = ['dropout', 'mlp', 'cnn', 'vit'];
const MODEL_LABEL: Record<ModelKind, string> = {
  dropout: 'dropout MLP',
  mlp: 'plain MLP',
  cnn: 'LeNet CNN',
  vit: 'tiny ViT',
};
/** Systems with CNN and ViT peers (dropout-lab's own and PyTorch's); the others are skipped for them, saying so. */
const CNN_SYSTEMS: readonly NodePeerSpec['system'][] = ['lab-wasm', 'lab-js', 'lab-webgpu'];
const PYTHON = '/usr/bin/python3';
/** Steps per round of the CNN and the ViT for every peer, unless --full (their epochs take minutes). */
const CNN_STEPS = 20;
const VIT_STEPS = 10;
/**
 * --profile's default warm-up: a tiny-batch ViT step's JavaScript settles after ~50–60 steps of V8
 * tiering up (5 warm-up steps left ~13 ms/step of it in the JS dispatch row).
 */
const PROFILE_WARMUP = 50;

const USAGE = `usage: node --import tsx scripts/bench.ts [options]
  --epochs N      measured epochs (rounds) per peer, median reported (default 3; 2 with --quick)
  --full          whole epochs for every peer but the reference and WebGPU ones (the default, about
                  5 minutes, runs the slow peers (PyTorch, TF.js, jax-js) for ~1 s rounds and the CNN
                  and ViT for ${CNN_STEPS} and ${VIT_STEPS} steps per round, extrapolated to an epoch)
  --quick         smoke run: every peer capped to a few steps, short GEMM/peak timings
  --skip a,b      skip systems (${SYSTEMS.join(', ')}), models (${MODELS.join(', ')}) or sections
                  (${SECTIONS.join(', ')})
  --scale         only the cost-as-the-work-grows table: the dropout MLP with hidden sizes 256, 1024
                  and 2048 and batches 64, 256 and 1024, dropout-lab wasm ×2 vs PyTorch CPU ×2
  --soak          also train the dropout MLP 20 epochs on wasm ×2 and report RSS per epoch (a full GC
                  ends each epoch, so V8's lazy heap growth does not hide or mimic a leak)
  --data-dir DIR  Fashion-MNIST directory (default: dropout-lab's lookup, /usr/share/datasets/fashion-mnist)
  --profile M     only the step profile of model M (mlp, dropout-mlp, cnn, vit): seconds and share of a
                  training step per op kind (GEMM, im2col/col2im, unfolded conv, direct conv, pooling, elementwise,
                  reductions, softmax, attention, normalization, random, thread sync, JS dispatch), the products' share of the measured SIMD
                  peak and the slowest call sites (kernel, op and shape)
  --threads N     threads of the profiled wasm backend (default 1)
  --clock C       the profile's clock: wall (default) or cpu (process CPU time; use it on a loaded
                  machine, with --threads 1)
  --steps N       profiled steps (default 20)
  --warmup N      untimed steps before them (default ${PROFILE_WARMUP}: V8 optimises the engine's JavaScript only
                  after many calls, and fewer steps leave its warm-up in the JS dispatch row)
  --json          print one JSON document instead of the text report (progress goes to stderr)`;

interface Options {
  readonly epochs: number;
  readonly quick: boolean;
  readonly full: boolean;
  readonly skip: ReadonlySet<string>;
  readonly soak: boolean;
  readonly scale: boolean;
  readonly json: boolean;
  readonly dataDir: string | undefined;
  readonly profile: ModelKind | null;
  readonly threads: number;
  readonly clock: ProfileClock;
  readonly steps: number;
  /** --profile's untimed warm-up steps. */
  readonly warmup: number;
}

/** --profile's model names (the CLI's `--model` spellings) → the bench's model kinds. */
const PROFILE_MODELS: Record<string, ModelKind> = {
  mlp: 'mlp',
  'dropout-mlp': 'dropout',
  dropout: 'dropout',
  cnn: 'cnn',
  vit: 'vit',
};

function parseOptions(argv: readonly string[]): Options {
  let epochs: number | undefined;
  let quick = false;
  let full = false;
  let soak = false;
  let scale = false;
  let json = false;
  let dataDir: string | undefined;
  let profile: ModelKind | null = null;
  let threads = 1;
  let clock: ProfileClock = 'wall';
  let steps = 20;
  let warmup = PROFILE_WARMUP;
  const positive = (flag: string, v: string): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1) throw new Error(`${flag} must be a positive integer`);
    return x;
  };
  const skip = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') quick = true;
    else if (a === '--full') full = true;
    else if (a === '--soak') soak = true;
    else if (a === '--scale') scale = true;
    else if (a === '--json') json = true;
    else if (a === '--epochs') {
      epochs = Number(value());
      if (!Number.isInteger(epochs) || epochs < 1) throw new Error('--epochs must be a positive integer');
    } else if (a === '--skip') {
      for (const s of value()
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)) {
        const known: readonly string[] = [...SYSTEMS, ...MODELS, ...SECTIONS];
        if (!known.includes(s)) throw new Error(`--skip: unknown name '${s}'; use ${known.join(', ')}`);
        skip.add(s);
      }
    } else if (a === '--profile') {
      const m = value();
      const kind = PROFILE_MODELS[m];
      if (kind === undefined)
        throw new Error(`--profile: unknown model '${m}'; use mlp, dropout-mlp, cnn or vit`);
      profile = kind;
    } else if (a === '--threads') threads = positive(a, value());
    else if (a === '--steps') steps = positive(a, value());
    else if (a === '--warmup') warmup = positive(a, value());
    else if (a === '--clock') {
      const c = value();
      if (c !== 'wall' && c !== 'cpu') throw new Error(`--clock must be wall or cpu, not '${c}'`);
      clock = c;
    } else if (a === '--data-dir') dataDir = value();
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  return {
    epochs: epochs ?? (quick ? 2 : 3),
    quick,
    full,
    skip,
    soak,
    scale,
    json,
    dataDir,
    profile,
    threads,
    clock,
    steps,
    warmup,
  };
}

let opts: Options;
try {
  opts = parseOptions(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
}
const log = (line: string): void => {
  process.stderr.write(line + '\n');
};

// ---------------------------------------------------------------------------------------------
// Peers

interface SystemDef {
  readonly id: SystemId;
  readonly label: string;
  /**
   * 'full': whole epochs (capped only in --quick); 'capped': a fixed number of steps, extrapolated;
   * 'slow': capped unless --full (PyTorch, TF.js, jax-js: minutes per epoch on some models).
   */
  readonly mode: 'full' | 'capped' | 'slow';
  start(model: ModelKind): Promise<Peer>;
}

const PEER_SCRIPT = fileURLToPath(new URL('./bench-lib/peer.ts', import.meta.url));
const TORCH_SCRIPT = fileURLToPath(new URL('./bench_torch.py', import.meta.url));

/** How a Node peer runs beyond its system: the wasm sparse path, and the soak's end-of-epoch GC. */
interface NodePeerOptions {
  readonly sparse?: boolean;
  readonly gcAfterEpoch?: boolean;
}

function nodePeer(
  id: SystemId,
  system: NodePeerSpec['system'],
  threads: number,
  o: NodePeerOptions = {},
  hparams: HParams = BOOK,
) {
  return (model: ModelKind): Promise<Peer> => {
    if ((model === 'cnn' || model === 'vit') && !CNN_SYSTEMS.includes(system)) {
      const what = MODEL_LABEL[model];
      return Promise.reject(
        new Error(`no ${what} peer for ${system} (the ${what} is compared with PyTorch only)`),
      );
    }
    const spec: NodePeerSpec = { system, threads, model, hparams, dataDir: opts.dataDir, ...o };
    const flags = o.gcAfterEpoch === true ? ['--expose-gc'] : [];
    return Peer.start(id, process.execPath, [
      ...process.execArgv,
      ...flags,
      PEER_SCRIPT,
      JSON.stringify(spec),
    ]);
  };
}

/** Variables that OpenBLAS reads when it loads and that make current OpenBLAS slower here. */
const OPENBLAS_SLOWDOWN_VARS = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

/** The PyTorch peer's environment: ours without the OpenBLAS overrides, OpenMP threads passive. */
function torchEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: 'passive' };
  for (const k of OPENBLAS_SLOWDOWN_VARS) delete env[k];
  return env;
}

/** The PyTorch CPU peer (2 threads) for `hparams`. */
function torchPeer(hparams: HParams) {
  return (model: ModelKind): Promise<Peer> => {
    if (!existsSync(PYTHON)) return Promise.reject(new Error(`${PYTHON} not found`));
    const spec = { model, threads: 2, hparams, dataDir: opts.dataDir };
    return Peer.start('torch', PYTHON, [TORCH_SCRIPT, JSON.stringify(spec)], torchEnv());
  };
}

const DEFS: readonly SystemDef[] = [
  { id: 'wasm-2t', label: 'dropout-lab wasm ×2', mode: 'full', start: nodePeer('wasm-2t', 'lab-wasm', 2) },
  { id: 'wasm-1t', label: 'dropout-lab wasm ×1', mode: 'full', start: nodePeer('wasm-1t', 'lab-wasm', 1) },
  {
    // The same engine with the sparse × dense path off: what skipping dropout's zeros is worth.
    id: 'wasm-2t-dense',
    label: 'dropout-lab wasm ×2 dense',
    mode: 'full',
    start: nodePeer('wasm-2t-dense', 'lab-wasm', 2, { sparse: false }),
  },
  { id: 'js', label: 'dropout-lab js (reference)', mode: 'capped', start: nodePeer('js', 'lab-js', 1) },
  { id: 'torch', label: 'PyTorch CPU ×2', mode: 'slow', start: torchPeer(BOOK) },
  {
    // A software adapter (lavapipe) is ~1 GFLOP/s, so this peer is capped; on a real GPU it runs fast.
    id: 'webgpu',
    label: 'dropout-lab WebGPU',
    mode: 'capped',
    start: nodePeer('webgpu', 'lab-webgpu', 1),
  },
  {
    id: 'torch-cuda',
    label: 'PyTorch CUDA',
    mode: 'full',
    start: (model) => {
      if (!existsSync(PYTHON)) return Promise.reject(new Error(`${PYTHON} not found`));
      const spec = { model, threads: 2, device: 'cuda', hparams: BOOK, dataDir: opts.dataDir };
      return Peer.start('torch-cuda', PYTHON, [TORCH_SCRIPT, JSON.stringify(spec)], torchEnv());
    },
  },
  { id: 'tfjs-wasm', label: 'TF.js wasm ×1', mode: 'slow', start: nodePeer('tfjs-wasm', 'tfjs-wasm', 1) },
  { id: 'tfjs-cpu', label: 'TF.js cpu', mode: 'slow', start: nodePeer('tfjs-cpu', 'tfjs-cpu', 1) },
  // jax-js as its users run it in Node: wasm device, one thread, the whole step jitted (jaxjs.ts).
  { id: 'jaxjs', label: 'jax-js wasm ×1 (jit)', mode: 'slow', start: nodePeer('jaxjs', 'jaxjs', 1) },
];

/** Steps and time budgets; --quick shrinks all of them, the default keeps the run near 5 minutes. */
const CAPS = opts.quick
  ? { fullWarm: 3, fullQuickCap: 20, cappedWarm: 1, cappedTargetS: 0.4, cappedMin: 2 }
  : { fullWarm: 10, fullQuickCap: null, cappedWarm: 2, cappedTargetS: opts.full ? 2 : 1, cappedMin: 3 };

/** How a peer runs `model`: its mode after --full, and the fixed steps the CNN and ViT get by default. */
function planOf(def: SystemDef, model: ModelKind): { mode: 'full' | 'capped'; fixed: number | null } {
  // PyTorch CPU is every ratio's denominator: on the CNN and the ViT it gets the same fixed steps as
  // dropout-lab's peers (its ~1 s rounds were 3–5 ViT steps, and its epoch moved by up to 45% between runs).
  const reference = def.id === 'torch' && !opts.quick && (model === 'cnn' || model === 'vit');
  const mode = def.mode === 'slow' ? (opts.full || reference ? 'full' : 'capped') : def.mode;
  if (opts.full || opts.quick || (model !== 'cnn' && model !== 'vit')) return { mode, fixed: null };
  return { mode, fixed: model === 'cnn' ? CNN_STEPS : VIT_STEPS };
}

interface PeerResult {
  readonly system: SystemId;
  readonly label: string;
  readonly model: ModelKind;
  /** Steps per measured round, or null for full epochs. */
  readonly stepsPerRound: number | null;
  readonly stepsPerEpoch: number;
  readonly rounds: EpochReply[];
  readonly secondsPerEpoch: number;
  readonly samplesPerSecond: number;
  readonly peakRssMb: number;
  readonly readyRssMb: number;
  readonly finalLoss: number;
  readonly info: Record<string, string | number | boolean>;
  ratioToTorch: number | null;
  /** The model's GEMM flops per sample as dropout-lab counted them (the same for every system). */
  flopsPerSample: number | null;
}

interface Skipped {
  readonly system: SystemId;
  readonly model: ModelKind;
  readonly reason: string;
}

const live = new Set<Peer>();
process.on('exit', () => {
  for (const p of live) p.kill();
});

async function benchModel(model: ModelKind, results: PeerResult[], skipped: Skipped[]): Promise<void> {
  const defs = DEFS.filter((d) => !opts.skip.has(d.id));
  // The reference and the software-WebGPU peers take seconds a step on the CNN and ViT (27 s a round
  // of 3 CNN steps for WebGPU on lavapipe), more than the whole default budget: only --full runs them.
  for (const d of [...defs]) {
    if (d.mode === 'capped' && planOf(d, model).fixed !== null) {
      defs.splice(defs.indexOf(d), 1);
      skipped.push({ system: d.id, model, reason: 'seconds per step on this model; run with --full' });
    }
  }
  log(
    `[${MODEL_LABEL[model]}] starting ${defs.map((d) => d.id).join(', ')} (data load and set-up, not timed)`,
  );
  const started = await Promise.allSettled(defs.map((d) => d.start(model)));
  const peers: { def: SystemDef; peer: Peer; cap: number | null; rounds: EpochReply[] }[] = [];
  started.forEach((s, i) => {
    const def = defs[i]!;
    if (s.status === 'fulfilled') {
      live.add(s.value);
      peers.push({ def, peer: s.value, cap: null, rounds: [] });
    } else {
      const reason = s.reason instanceof Error ? s.reason.message : String(s.reason);
      skipped.push({ system: def.id, model, reason });
      log(`[${MODEL_LABEL[model]}] skipping ${def.id}: ${reason}`);
    }
  });
  try {
    // Warm-up round (JIT tier-up, first allocations); it also sizes the capped peers' rounds.
    for (const p of peers) {
      const numBatches = Math.ceil(p.peer.ready.num_train / BOOK.batchSize);
      const plan = planOf(p.def, model);
      if (plan.fixed !== null) {
        // The same number of steps for every peer of the CNN and the ViT, and as many to warm up: the
        // wasm backend's sparse/dense chooser probes each product shape's first dozen calls
        // (path-chooser.ts), which would otherwise land in the short measured rounds.
        const w = await p.peer.epoch(plan.mode === 'full' ? plan.fixed : CAPS.cappedWarm);
        const perStep = w.seconds / w.steps;
        p.cap =
          plan.mode === 'full'
            ? plan.fixed
            : Math.min(plan.fixed, Math.max(CAPS.cappedMin, Math.round(CAPS.cappedTargetS / perStep)));
      } else if (plan.mode === 'full') {
        await p.peer.epoch(CAPS.fullWarm);
        p.cap = CAPS.fullQuickCap;
      } else {
        const w = await p.peer.epoch(CAPS.cappedWarm);
        const perStep = w.seconds / w.steps;
        p.cap = Math.min(numBatches, Math.max(CAPS.cappedMin, Math.round(CAPS.cappedTargetS / perStep)));
      }
      log(
        `[${MODEL_LABEL[model]}] ${p.def.id} warmed up; rounds of ${p.cap ?? `${numBatches} (full epoch)`} steps`,
      );
    }
    for (let r = 0; r < opts.epochs; r++) {
      // Round-robin, rotating who goes first so no peer always follows the same neighbour.
      for (let j = 0; j < peers.length; j++) {
        const p = peers[(j + r) % peers.length]!;
        const reply = await p.peer.epoch(p.cap);
        p.rounds.push(reply);
        log(
          `[${MODEL_LABEL[model]}] round ${r + 1}/${opts.epochs} ${p.def.id}: ${reply.steps} steps in ` +
            `${reply.seconds.toFixed(2)} s, loss ${reply.loss.toFixed(4)}`,
        );
      }
    }
  } finally {
    await Promise.all(peers.map((p) => p.peer.quit().finally(() => live.delete(p.peer))));
  }
  for (const p of peers) {
    const numTrain = p.peer.ready.num_train;
    const perEpoch = p.rounds.map((x) => (x.seconds / x.samples) * numTrain);
    const spe = median(perEpoch);
    results.push({
      system: p.def.id,
      label: p.def.label,
      model,
      stepsPerRound: p.cap,
      stepsPerEpoch: Math.ceil(numTrain / BOOK.batchSize),
      rounds: p.rounds,
      secondsPerEpoch: spe,
      samplesPerSecond: numTrain / spe,
      peakRssMb: Math.max(p.peer.ready.maxrss_kb, ...p.rounds.map((x) => x.maxrss_kb)) / 1024,
      readyRssMb: p.peer.ready.rss_kb / 1024,
      finalLoss: p.rounds[p.rounds.length - 1]!.loss,
      info: p.peer.ready.info,
      ratioToTorch: null,
      flopsPerSample: null,
    });
  }
  // Counted by dropout-lab's peers; every system runs the same model, so all rows share the figure.
  const counted = results.find((x) => x.model === model && x.rounds.some((r) => (r.gemm_flops ?? 0) > 0));
  if (counted !== undefined) {
    const r = counted.rounds.find((x) => (x.gemm_flops ?? 0) > 0)!;
    for (const x of results) if (x.model === model) x.flopsPerSample = r.gemm_flops! / r.samples;
  }
  const torch = results.find((x) => x.model === model && x.system === 'torch');
  for (const x of results)
    if (x.model === model && torch) x.ratioToTorch = torch.secondsPerEpoch / x.secondsPerEpoch;
}

// ---------------------------------------------------------------------------------------------
// Scale: the dropout MLP as hidden size and batch grow, dropout-lab vs PyTorch.

const SCALE_HIDDEN = [256, 1024, 2048] as const;
const SCALE_BATCH = [64, 256, 1024] as const;

interface ScaleRow {
  readonly hidden: number;
  readonly batch: number;
  readonly labSecondsPerEpoch: number;
  readonly torchSecondsPerEpoch: number;
  /** PyTorch's s/epoch ÷ dropout-lab's (higher: dropout-lab faster). */
  readonly ratio: number;
  readonly steps: number;
}

/**
 * For each (hidden, batch): a dropout-lab wasm ×2 and a PyTorch ×2 peer, one warm-up round, then
 * opts.epochs rounds of the same number of steps (about 2 s of the slower peer), alternating;
 * s/epoch is extrapolated from the median round to the 60000-sample epoch.
 */
async function scaleTable(): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const targetS = opts.quick ? 0.3 : 2;
  for (const hidden of SCALE_HIDDEN) {
    for (const batch of SCALE_BATCH) {
      const hp: HParams = { ...BOOK, hidden1: hidden, hidden2: hidden, batchSize: batch };
      const peers = await Promise.all([
        nodePeer('wasm-2t', 'lab-wasm', 2, {}, hp)('dropout'),
        torchPeer(hp)('dropout'),
      ]);
      peers.forEach((p) => live.add(p));
      try {
        const warm = await Promise.all(peers.map(async (p) => p.epoch(opts.quick ? 1 : 2)));
        const perStep = Math.max(...warm.map((w) => w.seconds / w.steps));
        const numBatches = Math.ceil(peers[0]!.ready.num_train / batch);
        const steps = Math.min(numBatches, Math.max(3, Math.round(targetS / perStep)));
        const perEpoch: number[][] = [[], []];
        for (let r = 0; r < opts.epochs; r++) {
          for (let j = 0; j < peers.length; j++) {
            const i = (j + r) % peers.length;
            const reply = await peers[i]!.epoch(steps);
            perEpoch[i]!.push((reply.seconds / reply.samples) * peers[i]!.ready.num_train);
          }
        }
        const [lab, torch] = perEpoch.map(median) as [number, number];
        rows.push({
          hidden,
          batch,
          labSecondsPerEpoch: lab,
          torchSecondsPerEpoch: torch,
          ratio: torch / lab,
          steps,
        });
        log(
          `[scale] hidden ${hidden}, batch ${batch}: dropout-lab ${lab.toFixed(2)} s/epoch, PyTorch ${torch.toFixed(2)} (${(torch / lab).toFixed(2)}×)`,
        );
      } finally {
        await Promise.all(peers.map((p) => p.quit().finally(() => live.delete(p))));
      }
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Profile: one model's step, per op kind (bench-lib/profile.ts).

/** Runs --profile and prints its table (or JSON). */
async function printProfile(model: ModelKind): Promise<void> {
  const data = await loadFashionMNIST({
    batchSize: BOOK.batchSize,
    dataDir: opts.dataDir,
    valLimit: BOOK.batchSize,
  });
  log(`[profile] ${MODEL_LABEL[model]}, wasm ×${opts.threads}, ${opts.clock} clock, ${opts.steps} steps`);
  if (opts.clock === 'cpu' && opts.threads > 1)
    log('warning: the cpu clock counts every thread of the process (helpers spin while they wait)');
  const p: StepProfile = await profileStep(
    model,
    BOOK,
    data,
    opts.threads,
    opts.clock,
    opts.warmup,
    opts.steps,
  );
  setBackend(new ReferenceBackend());
  log('[profile] measuring the SIMD peak on 1 thread');
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const simd = await measurePeak(opts.quick, opts.clock === 'cpu' ? cpuMs : undefined);
  // Relaxed builds run fused multiply-add where the engine has it; compare with the peak they can reach.
  const peakGflops = simd.relaxed ?? simd.plain;
  const achieved = p.gemmFlops / p.stepSeconds / 1e9;
  const peakShare = achieved / (peakGflops * p.threads);
  if (opts.json) {
    console.log(
      JSON.stringify(
        { profile: p, simd_peak_gflops: simd, gemm_gflops: achieved, peak_share: peakShare },
        null,
        2,
      ),
    );
    return;
  }
  const load = os.loadavg()[0]!;
  console.log(
    `Step profile: ${MODEL_LABEL[model]}, batch ${BOOK.batchSize}, wasm ×${p.threads}, ${p.clock} clock` +
      `${p.clock === 'cpu' ? ' (process CPU time)' : ''}, ${p.steps} steps after ${p.warmSteps} warm-up; ` +
      `load average ${load.toFixed(2)}${load > 0.5 ? ' (loaded machine: prefer --clock cpu)' : ''}\n`,
  );
  console.log(
    formatTable(
      ['op kind', 'ms/step', 'share', 'calls/step'],
      [
        ...p.rows.map((r) =>
          Number.isNaN(r.seconds)
            ? [r.kind, '< noise', '', '']
            : [
                r.kind,
                (r.seconds * 1000).toFixed(2),
                `${(100 * r.share).toFixed(1)}%`,
                r.calls === 0 ? '' : r.calls.toFixed(0),
              ],
        ),
        ['step', (p.stepSeconds * 1000).toFixed(2), '100%', ''],
      ],
    ),
  );
  console.log(
    `\nGEMM work (every product: matmuls, the unfolded convolution's and attention's): ${(p.gemmFlops / 1e6).toFixed(1)} MFLOP/step = ${achieved.toFixed(2)} GFLOP/s over the whole step, ` +
      `${(100 * peakShare).toFixed(1)}% of the measured SIMD peak (${peakGflops.toFixed(1)} GFLOP/s ` +
      `${simd.relaxed === null ? 'mul+add' : 'relaxed madd'} per thread × ${p.threads}). ` +
      `The timing wrapper added ${p.overheadMicros.toFixed(2)} µs per call; the step's time is from rounds without it.\n`,
  );
  console.log(
    formatTable(
      ['kernel', 'ms/step', 'calls/step'],
      p.kernels.map((k) => [k.name, (k.seconds * 1000).toFixed(2), k.calls.toFixed(0)]),
    ),
  );
  console.log('\nSlowest call sites (kernel, op, shape):');
  console.log(
    formatTable(
      ['call site', 'ms/step', 'calls/step'],
      p.sites.slice(0, 15).map((s) => [s.site, (s.seconds * 1000).toFixed(2), s.calls.toFixed(1)]),
    ),
  );
  if (p.dispatches.length > 0) {
    const total = p.dispatches.reduce((s, d) => s + d.perStep, 0);
    console.log(
      `\nHelper-thread dispatches: ${total.toFixed(0)} per step (command, work: flops for products, else the range cut: elements, im2col rows, col2im images)`,
    );
    console.log(
      formatTable(
        ['command work', 'per step', 'chunks each'],
        p.dispatches.map((d) => [d.key, d.perStep.toFixed(0), d.chunksPerDispatch.toFixed(1)]),
      ),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Soak: RSS over 20 epochs of the dropout MLP on wasm ×2, in its own process.

interface Soak {
  readonly epochs: number;
  readonly stepsPerEpoch: number | null;
  readonly rssMb: number[];
  readonly engineBytes: number[];
  readonly rssEpoch2Mb: number;
  readonly rssLastMb: number;
  readonly slopeMbPerEpoch: number;
  /** V8 heap in use after the full GC the soak peer runs at each epoch's end (what JS retains). */
  readonly heapAfterGcMb: number[];
}

async function soak(): Promise<Soak> {
  const epochs = 20;
  const cap = opts.quick ? 10 : null;
  const peer = await nodePeer('wasm-2t', 'lab-wasm', 2, { gcAfterEpoch: true })('dropout');
  live.add(peer);
  const rssMb: number[] = [];
  const heapAfterGcMb: number[] = [];
  const engineBytes: number[] = [];
  try {
    for (let e = 1; e <= epochs; e++) {
      const r = await peer.epoch(cap);
      rssMb.push(r.rss_kb / 1024);
      heapAfterGcMb.push((r.heap_gc_kb ?? 0) / 1024);
      engineBytes.push(r.engine_bytes ?? 0);
      log(`[soak] epoch ${e}/${epochs}: rss ${(r.rss_kb / 1024).toFixed(1)} MB, ${r.seconds.toFixed(2)} s`);
    }
  } finally {
    await peer.quit();
    live.delete(peer);
  }
  const xs = rssMb.map((_, i) => i + 1).slice(1);
  return {
    epochs,
    stepsPerEpoch: cap,
    rssMb,
    engineBytes,
    rssEpoch2Mb: rssMb[1]!,
    rssLastMb: rssMb[epochs - 1]!,
    slopeMbPerEpoch: slope(xs, rssMb.slice(1)),
    heapAfterGcMb,
  };
}

// ---------------------------------------------------------------------------------------------
// Machine description

interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly v8: string;
  readonly torch: string | null;
  readonly torchBlas: string | null;
  /** True when torch's libblas.so.3 is the reference BLAS (~10× slower than OpenBLAS). */
  readonly torchReferenceBlas: boolean;
  readonly tfjs: string | null;
  readonly jaxjs: string | null;
  /** How the tfjs wasm backend ran: SIMD or not, threads. */
  readonly tfjsWasm: string | null;
  readonly wasmKernels: string | null;
  /** 1-minute load average when the run started and when it ended (other work skews every number). */
  readonly loadStart: number;
  readonly loadEnd: number;
}

function cpuModel(): string {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name: string): string | undefined =>
      new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
    const name = field('model name') ?? os.cpus()[0]?.model ?? 'unknown CPU';
    const family = field('cpu family');
    const model = field('model');
    return family !== undefined && model !== undefined ? `${name} (family ${family}, model ${model})` : name;
  } catch {
    return os.cpus()[0]?.model ?? 'unknown CPU';
  }
}

// ---------------------------------------------------------------------------------------------
// Main

const loadStart = os.loadavg()[0]!;
if (loadStart > 0.5)
  log(
    `warning: 1-minute load average is ${loadStart.toFixed(2)}; other work on this machine will skew the timings`,
  );
if (opts.scale) {
  const rows = await scaleTable();
  const header = ['hidden', 'batch', 'dropout-lab wasm ×2 s/epoch', 'PyTorch CPU ×2 s/epoch', 'vs PyTorch'];
  const cells = rows.map((r) => [
    `${r.hidden}×${r.hidden}`,
    String(r.batch),
    r.labSecondsPerEpoch.toFixed(2),
    r.torchSecondsPerEpoch.toFixed(2),
    `${r.ratio.toFixed(2)}×`,
  ]);
  const load = os.loadavg()[0]!;
  if (opts.json)
    console.log(JSON.stringify({ cpu: cpuModel(), cores: os.availableParallelism(), scale: rows }, null, 2));
  else {
    console.log(
      `Dropout MLP (784→h→h→10, dropout 0.5/0.5, SGD lr 0.1) as the work grows, ${cpuModel()}, ` +
        `${os.availableParallelism()} cores; load average ${loadStart.toFixed(2)} → ${load.toFixed(2)}; ` +
        `s/epoch extrapolated from ${opts.epochs} alternating rounds of ~2 s each (median); ` +
        `"vs PyTorch" is throughput ÷ PyTorch's (higher is faster)\n`,
    );
    console.log(formatTable(header, cells));
  }
  process.exit(0);
}
if (opts.profile !== null) {
  await printProfile(opts.profile);
  process.exit(0);
}
const results: PeerResult[] = [];
const skipped: Skipped[] = [];
for (const model of MODELS) if (!opts.skip.has(model)) await benchModel(model, results, skipped);

let peak: SimdPeak | null = null;
const gemms: GemmResult[] = [];
if (!opts.skip.has('gemm')) {
  log('[gemm] measuring the SIMD peak and the step GEMMs on 1 thread');
  const before = await measurePeak(opts.quick);
  for (const v of gemmVariants()) gemms.push(await benchGemms(v, opts.quick ? 60 : 300));
  // Measured again after the GEMMs and the better figure kept: a peak depressed by a noisy neighbour
  // would flatter every GEMM.
  const after = await measurePeak(opts.quick);
  peak = {
    plain: Math.max(before.plain, after.plain),
    relaxed:
      before.relaxed === null || after.relaxed === null ? null : Math.max(before.relaxed, after.relaxed),
  };
}

if (peak === null && results.length > 0) {
  // The training table's share of the peak needs it even when the GEMM section is skipped.
  log('[peak] measuring the SIMD peak on 1 thread');
  peak = await measurePeak(true);
}

const shares: DropoutShare[] = [];
const determinism: Determinism[] = [];
if (!opts.skip.has('dropout-share') || !opts.skip.has('determinism')) {
  const data = await loadFashionMNIST({
    batchSize: BOOK.batchSize,
    dataDir: opts.dataDir,
    valLimit: BOOK.batchSize,
  });
  if (!opts.skip.has('dropout-share')) {
    for (const threads of [1, 2]) {
      log(`[dropout share] wasm ×${threads}`);
      shares.push(await measureDropoutShare(data, BOOK, threads, opts.quick ? 3 : 10, opts.quick ? 10 : 40));
    }
  }
  if (!opts.skip.has('determinism')) {
    // 3 and 4 threads too, even on fewer cores: the split must not change a bit wherever it falls.
    for (const threads of [2, 3, 4]) {
      log(`[determinism] same seed on 1 and ${threads} threads`);
      determinism.push(await checkThreadDeterminism(data, BOOK, opts.quick ? 5 : 30, threads));
    }
  }
  setBackend(new ReferenceBackend());
}

let browser: BrowserVsNode | null = null;
let browserError: string | null = null;
if (!opts.skip.has('browser')) {
  log('[browser] a dropout-MLP step in Chromium (cross-origin isolated, all threads) and in Node');
  const raw = await loadFashionMnistRaw({ dataDir: opts.dataDir });
  const batches = 8;
  const n = batches * BOOK.batchSize;
  const images = Float32Array.from(raw.trainImages.subarray(0, n * 784), (v) => v / 255);
  const labels = Float32Array.from(raw.trainLabels.subarray(0, n));
  try {
    browser = await browserVsNode(
      images,
      labels,
      BOOK.batchSize,
      20,
      opts.quick ? 20 : 200,
      opts.quick ? 1 : 3,
    );
  } catch (e) {
    browserError = e instanceof Error ? e.message : String(e);
    log(`[browser] skipped: ${browserError}`);
  }
}

const soakResult = opts.soak ? await soak() : null;

const firstInfo = (id: SystemId, key: string): string | null => {
  const v = results.find((r) => r.system === id)?.info[key];
  return v === undefined ? null : String(v);
};
const machine: Machine = {
  cpu: cpuModel(),
  cores: os.availableParallelism(),
  node: process.version,
  v8: process.versions.v8,
  torch: firstInfo('torch', 'torch'),
  torchBlas: firstInfo('torch', 'blas'),
  torchReferenceBlas: firstInfo('torch', 'blas_reference') === 'true',
  tfjs: firstInfo('tfjs-wasm', 'tfjs') ?? firstInfo('tfjs-cpu', 'tfjs'),
  jaxjs: firstInfo('jaxjs', 'jaxjs'),
  tfjsWasm: results.some((r) => r.system === 'tfjs-wasm')
    ? `wasm backend ${firstInfo('tfjs-wasm', 'simd') === 'true' ? 'SIMD' : 'scalar'} ×${firstInfo('tfjs-wasm', 'threads') ?? '?'}` +
      (firstInfo('tfjs-wasm', 'multithread') === 'true' ? '' : ', its threaded build does not run in Node')
    : null,
  wasmKernels: firstInfo('wasm-1t', 'variant') ?? firstInfo('wasm-2t', 'variant'),
  loadStart,
  loadEnd: os.loadavg()[0]!,
};
const warnings: string[] = [];
if (machine.torchReferenceBlas)
  warnings.push(
    `PyTorch ran on the reference BLAS (${machine.torchBlas}), about 10× slower than OpenBLAS: ` +
      'install libopenblas0-pthread to compare against PyTorch at its best.',
  );
for (const w of warnings) log(`warning: ${w}`);
// From process start (performance's time origin), imports included.
const totalSeconds = performance.now() / 1000;

// ---------------------------------------------------------------------------------------------
// Report

const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;

function measuredNote(r: PeerResult): string {
  const n = r.rounds.length;
  if (r.stepsPerRound === null || r.stepsPerRound >= r.stepsPerEpoch) return `${n} full epochs`;
  return `${n}×${r.stepsPerRound} of ${r.stepsPerEpoch} steps, extrapolated`;
}

/**
 * GEMM flops per second over the whole training phase ÷ (the 1-thread SIMD peak × the system's
 * threads): how much of the machine's arithmetic a system turns into the model's products.
 */
function peakShare(r: PeerResult): number | null {
  if (r.flopsPerSample === null || peak === null) return null;
  const threads = Number(r.info['threads'] ?? 1) || 1;
  return (r.flopsPerSample * r.samplesPerSecond) / ((peak.relaxed ?? peak.plain) * 1e9 * threads);
}

const trainingHeader = [
  'system',
  'model',
  's/epoch',
  'samples/s',
  'vs PyTorch',
  '% of peak',
  'peak RSS MB',
  'measured',
];
const trainingRows = results.map((r) => [
  r.label,
  MODEL_LABEL[r.model],
  f2(r.secondsPerEpoch),
  r.samplesPerSecond.toFixed(0),
  r.ratioToTorch === null ? '—' : `${f2(r.ratioToTorch)}×`,
  peakShare(r) === null ? '—' : `${(100 * peakShare(r)!).toFixed(1)}%`,
  r.peakRssMb.toFixed(0),
  measuredNote(r),
]);

function markdown(): string {
  const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const lines = [
    `Machine: ${machine.cpu}, ${machine.cores} cores; Node ${machine.node} (V8 ${machine.v8})` +
      `${machine.torch ? `; PyTorch ${machine.torch}${machine.torchBlas ? ` (BLAS: ${machine.torchBlas})` : ''}` : ''}` +
      `${machine.tfjs ? `; TensorFlow.js ${machine.tfjs} (tf.layers${machine.tfjsWasm ? `; ${machine.tfjsWasm}` : ''})` : ''}` +
      `${machine.jaxjs ? `; jax-js ${machine.jaxjs} (wasm, 1 thread, whole step jitted)` : ''}` +
      `${machine.wasmKernels ? `; dropout-lab wasm kernels: ${machine.wasmKernels} SIMD` : ''}` +
      `; load average ${f2(machine.loadStart)} at start, ${f2(machine.loadEnd)} at end.`,
    ...warnings.map((w) => `\n**Warning:** ${w}`),
    '',
    `Book hyperparameters (784→256→256→10, dropout 0.5/0.5, batch ${BOOK.batchSize}, SGD lr ${BOOK.lr}; ` +
      `the LeNet CNN is \`--model cnn\`: conv 1→6 5×5 pad 2, max-pool, conv 6→16 5×5, max-pool, 400→256→256→10; ` +
      `the tiny ViT is \`--model vit\`: 7×7 patches → 16 tokens + class token, width 64, 4 pre-norm blocks × 4 heads, MLP 128, GELU), ` +
      `real Fashion-MNIST in memory, peers alternating round by round; s/epoch is the median training-phase ` +
      `time (no validation); "vs PyTorch" is throughput ÷ PyTorch's throughput for the same model (higher is faster), ` +
      `both from this run; "% of peak" is the model's GEMM flops per second ÷ (the measured 1-thread SIMD peak × the system's threads).`,
    '',
    row(trainingHeader),
    row(trainingHeader.map((_, i) => (i < 2 ? '---' : '---:'))),
    ...trainingRows.map(row),
  ];
  if (browser !== null) {
    const node = median(browser.node.map((x) => x.msPerStep));
    const chrome = median(browser.chromium.map((x) => x.msPerStep));
    lines.push(
      '',
      `A dropout-MLP training step (batch ${browser.rows}, ${browser.chromium[0]!.threads} threads): ` +
        `Node ${f2(node)} ms, Chromium ${browser.chromiumVersion} ${f2(chrome)} ms (cross-origin isolated module worker).`,
    );
  }
  if (peak !== null) {
    lines.push(
      '',
      `128-bit SIMD peak, 1 thread: ${f1(peak.plain)} GFLOP/s mul+add` +
        `${peak.relaxed === null ? '' : `, ${f1(peak.relaxed)} GFLOP/s relaxed madd`}.`,
    );
  }
  return lines.join('\n');
}

function gemmTable(): string {
  if (peak === null) return '';
  const header = ['GEMM (m×n×k)', 'MFLOP'];
  for (const g of gemms) header.push(`${g.variant} GFLOP/s`, `% of peak`);
  const rows = STEP_GEMMS.map((s, i) => {
    const cells = [
      `${s.label} ${s.m}×${s.n}×${s.k}${s.transA ? ' Aᵀ' : ''}${s.transB ? ' Bᵀ' : ''}`,
      f1((2 * s.m * s.n * s.k) / 1e6),
    ];
    for (const g of gemms) {
      const p = g.variant === 'relaxed' ? (peak!.relaxed ?? peak!.plain) : peak!.plain;
      cells.push(f1(g.gflops[i]!), pct(g.gflops[i]! / p));
    }
    return cells;
  });
  const total = STEP_GEMMS.reduce((s, g) => s + 2 * g.m * g.n * g.k, 0);
  const all = ['all 8 in a row', f1(total / 1e6)];
  for (const g of gemms) {
    const p = g.variant === 'relaxed' ? (peak.relaxed ?? peak.plain) : peak.plain;
    const gf = total / (g.stepMs * 1e6);
    all.push(`${f1(gf)} (${f2(g.stepMs)} ms)`, pct(gf / p));
  }
  rows.push(all);
  return (
    `GEMMs of one training step, wasm backend, 1 thread (peak: ${f1(peak.plain)} GFLOP/s plain mul+add` +
    `${peak.relaxed === null ? ', relaxed SIMD unavailable' : `, ${f1(peak.relaxed)} GFLOP/s relaxed madd`}; ` +
    `simd builds are compared with the mul+add peak, relaxed builds with the madd peak)\n` +
    formatTable(header, rows)
  );
}

function shareText(): string {
  if (shares.length === 0) return '';
  return (
    'Dropout share of a training step (dropout MLP, wasm; backend.dropout timed: forward masks and the backward pass that re-applies them)\n' +
    formatTable(
      ['threads', 'step ms', 'dropout ms', 'calls/step', 'share', 'plain MLP step ms', 'step − plain'],
      shares.map((s) => [
        s.threads,
        f2(s.stepMs),
        f2(s.dropoutMs),
        s.callsPerStep.toFixed(0),
        pct(s.share),
        f2(s.mlpStepMs),
        f2(s.stepMs - s.mlpStepMs),
      ]),
    )
  );
}

const report = {
  machine,
  options: { epochs: opts.epochs, quick: opts.quick, full: opts.full, skip: [...opts.skip], soak: opts.soak },
  hparams: BOOK,
  training: results.map((r) => ({
    system: r.system,
    label: r.label,
    model: r.model,
    seconds_per_epoch: r.secondsPerEpoch,
    samples_per_second: r.samplesPerSecond,
    ratio_to_torch: r.ratioToTorch,
    gemm_flops_per_sample: r.flopsPerSample,
    peak_share: peakShare(r),
    peak_rss_mb: r.peakRssMb,
    ready_rss_mb: r.readyRssMb,
    steps_per_round: r.stepsPerRound,
    steps_per_epoch: r.stepsPerEpoch,
    extrapolated: r.stepsPerRound !== null && r.stepsPerRound < r.stepsPerEpoch,
    rounds: r.rounds.map((x) => ({ seconds: x.seconds, samples: x.samples, steps: x.steps, loss: x.loss })),
    final_loss: r.finalLoss,
    info: r.info,
  })),
  skipped,
  warnings,
  simd_peak_gflops: peak,
  gemm: gemms.map((g) => ({
    variant: g.variant,
    step_ms: g.stepMs,
    shapes: STEP_GEMMS.map((s, i) => ({ ...s, gflops: g.gflops[i] })),
  })),
  dropout_share: shares,
  determinism,
  browser,
  soak: soakResult,
  total_seconds: totalSeconds,
  markdown: markdown(),
};

if (opts.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const out: string[] = [];
  out.push(`dropout-lab benchmark (${opts.quick ? 'quick smoke run, ' : ''}${f1(totalSeconds)} s)`);
  out.push(
    `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}` +
      `${machine.torch ? `; PyTorch ${machine.torch}${machine.torchBlas ? ` (BLAS: ${machine.torchBlas})` : ''}` : ''}` +
      `${machine.tfjs ? `; TensorFlow.js ${machine.tfjs} (tf.layers${machine.tfjsWasm ? `; ${machine.tfjsWasm}` : ''})` : ''}` +
      `; load average ${f2(machine.loadStart)} → ${f2(machine.loadEnd)}`,
    '',
  );
  out.push(formatTable(trainingHeader, trainingRows));
  for (const s of skipped) out.push(`skipped ${s.system} (${MODEL_LABEL[s.model]}): ${s.reason}`);
  for (const w of warnings) out.push(`warning: ${w}`);
  out.push('');
  if (peak !== null) out.push(gemmTable(), '');
  if (shares.length > 0) out.push(shareText(), '');
  for (const d of determinism) {
    out.push(
      `Same seed, ${d.steps} steps of the dropout MLP on wasm ×1 vs ×${d.threads}: identical: ${d.identical ? 'yes' : 'no'}` +
        (d.identical ? '' : ` (${d.differing} parameters differ, max |Δ| ${d.maxAbsDiff.toExponential(2)})`),
    );
  }
  if (determinism.length > 0) out.push('');
  if (browser !== null) {
    const node = median(browser.node.map((x) => x.msPerStep));
    const chrome = median(browser.chromium.map((x) => x.msPerStep));
    out.push(
      `Dropout-MLP training step (batch ${browser.rows}, wasm ${browser.chromium[0]!.variant}, ${browser.chromium[0]!.threads} threads; ` +
        `median of ${browser.node.length} alternating rounds of ${browser.steps} steps): ` +
        `Node ${f2(node)} ms, Chromium ${browser.chromiumVersion} (cross-origin isolated, module worker) ${f2(chrome)} ms ` +
        `(Chromium ÷ Node ${f2(chrome / node)})`,
      '',
    );
  } else if (browserError !== null) out.push(`Browser step skipped: ${browserError}`, '');
  if (soakResult !== null) {
    out.push(
      `Soak, dropout MLP on wasm ×2, ${soakResult.epochs} ${soakResult.stepsPerEpoch === null ? 'full' : `${soakResult.stepsPerEpoch}-step`} epochs: ` +
        `RSS epoch 2 ${f1(soakResult.rssEpoch2Mb)} MB, epoch ${soakResult.epochs} ${f1(soakResult.rssLastMb)} MB, ` +
        `slope ${soakResult.slopeMbPerEpoch.toFixed(3)} MB/epoch (a full GC ends each epoch); V8 heap in use ` +
        `${f1(soakResult.heapAfterGcMb[1]!)} → ${f1(soakResult.heapAfterGcMb[soakResult.epochs - 1]!)} MB; engine bytes ${soakResult.engineBytes[1]} → ${soakResult.engineBytes[soakResult.epochs - 1]}`,
      '',
    );
  }
  out.push('Markdown for docs/development.md (Performance):', '', markdown());
  console.log(out.join('\n'));
}
