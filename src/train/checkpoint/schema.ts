/**
 * The checkpoint header's JSON schema: how a TrainingCheckpoint's fields are written into the header,
 * and how a parsed header is read back by a tiny schema checker whose every failure is a DataError
 * naming the field. The bytes around the header (preamble, checksums, payload) are container.ts's.
 */
import { DataError, formatShape } from '../../errors.js';
import type { GeneratorState } from '../../random/generator.js';
import type { EpochMetrics } from '../epochMetrics.js';
import type { BoardMetric, BoardPoint } from '../progressBoard.js';
import type {
  ConfigValue,
  LrScheduleState,
  OptimizerHparams,
  PartialEpoch,
  TrainingCheckpoint,
} from './types.js';

/** The `format` field of every checkpoint header. */
export const CHECKPOINT_FORMAT = 'dropout-lab-checkpoint';
/**
 * The newest format version this code writes (it reads this one and every older one). A checkpoint
 * that needs nothing of version 3 (plain SGD at a constant rate) is written as version 2, so that an
 * older dropout-lab still reads it.
 */
export const CHECKPOINT_VERSION = 3;
/** Largest payload accepted (1 GiB, 2^28 float32 values). */
export const MAX_CHECKPOINT_PAYLOAD_BYTES = 2 ** 30;

const BOARD_METRICS: readonly BoardMetric[] = ['train_loss', 'val_loss', 'val_acc'];

/** One entry of the header's tensor table: `length` float32 values at element `offset` of the payload. */
export interface TensorEntry {
  name: string;
  role: 'param' | 'momentum' | 'exp_avg' | 'exp_avg_sq';
  shape: number[];
  offset: number;
  length: number;
}

/** The payload's size and checksum, as the header records them. */
export interface PayloadInfo {
  readonly bytes: number;
  readonly sha256: string;
}

/** A checkpoint without its tensor values: what the header holds besides the tensor table (AdamW's step count). */
export type CheckpointFields = Omit<TrainingCheckpoint, 'params' | 'momentum' | 'adamw'> & {
  readonly adamwStep?: number;
};

/** The format version `ckpt` is written in: 3 if it uses AdamW or a schedule, else 2. */
export function versionOf(ckpt: TrainingCheckpoint): number {
  return ckpt.optimizer.name !== 'SGD' || ckpt.lrSchedule !== undefined ? 3 : 2;
}

/** What `readHeader` returns: the checkpoint's fields, its tensor table and its payload's size and sum. */
export interface Header {
  readonly fields: CheckpointFields;
  readonly tensors: readonly TensorEntry[];
  readonly payload: PayloadInfo;
}

/** Metric numbers may be NaN (e.g. val_acc of a model without accuracy); JSON writes those as null. */
const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The header object of `ckpt` (JSON.stringify writes it; key order is part of the format's bytes). */
export function writeHeader(
  ckpt: TrainingCheckpoint,
  tensors: readonly TensorEntry[],
  payload: PayloadInfo,
): object {
  return {
    format: CHECKPOINT_FORMAT,
    version: versionOf(ckpt),
    model: { className: ckpt.modelClass, config: ckpt.config },
    training: {
      epoch: ckpt.epoch,
      stepInEpoch: ckpt.stepInEpoch,
      ...(ckpt.partial === undefined ? {} : { partial: ckpt.partial }),
    },
    optimizer: ckpt.optimizer,
    // Version 3's fields are written only when present, so a version-2 header keeps its bytes.
    ...(ckpt.adamw === undefined ? {} : { optimizerState: { step: ckpt.adamw.step } }),
    ...(ckpt.lrSchedule === undefined ? {} : { lrSchedule: ckpt.lrSchedule }),
    generators: ckpt.generators,
    data: ckpt.data,
    metrics: {
      epochs: ckpt.metrics.epochs.map((m) => ({
        epoch: m.epoch,
        trainLoss: num(m.trainLoss),
        valLoss: num(m.valLoss),
        valAcc: num(m.valAcc),
        epochSeconds: num(m.epochSeconds),
        samplesPerSecond: num(m.samplesPerSecond),
      })),
      board: ckpt.metrics.board.map((p) => ({ metric: p.metric, epoch: p.epoch, value: num(p.value) })),
    },
    tensors,
    payload: { bytes: payload.bytes, sha256: payload.sha256 },
  };
}

type Json = unknown;

class Reader {
  constructor(private readonly fail: (problem: string) => DataError) {}

  obj(v: Json, where: string): Record<string, Json> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw this.fail(`has no object at ${where}`);
    return v as Record<string, Json>;
  }

  arr(v: Json, where: string): Json[] {
    if (!Array.isArray(v)) throw this.fail(`has no array at ${where}`);
    return v;
  }

  str(v: Json, where: string): string {
    if (typeof v !== 'string') throw this.fail(`has no string at ${where}`);
    return v;
  }

  /** A finite number. */
  num(v: Json, where: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.fail(`has no finite number at ${where}`);
    return v;
  }

  /** A metric value: a number, or null standing for NaN. */
  metric(v: Json, where: string): number {
    return v === null ? Number.NaN : this.num(v, where);
  }

  /** A non-negative safe integer, at most `max`. */
  int(v: Json, where: string, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
      throw this.fail(`has ${JSON.stringify(v) ?? 'nothing'} at ${where}, expected an integer in 0…${max}`);
    }
    return v;
  }

  generator(v: Json, where: string): GeneratorState {
    const o = this.obj(v, where);
    return { seed: this.int(o.seed, `${where}.seed`), offset: this.int(o.offset, `${where}.offset`) };
  }
}

/**
 * Reads a parsed header of format `version` (the preamble's), checking every field: its types and
 * ranges, and a tensor table that is contiguous, in range and exactly as large as the payload it
 * claims. `fail` turns a problem into the DataError thrown (it names the file and the fix).
 */
export function readHeader(parsed: Json, version: number, fail: (problem: string) => DataError): Header {
  const r = new Reader(fail);
  const h = r.obj(parsed, 'the header');
  if (h.format !== CHECKPOINT_FORMAT) {
    throw fail(`has format ${JSON.stringify(h.format) ?? 'nothing'}, expected "${CHECKPOINT_FORMAT}"`);
  }
  if (h.version !== version) {
    throw fail(`has header version ${JSON.stringify(h.version) ?? 'nothing'}, expected ${version}`);
  }

  const model = r.obj(h.model, 'model');
  const config: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(r.obj(model.config, 'model.config'))) {
    if (v !== null && !['number', 'string', 'boolean'].includes(typeof v)) {
      throw fail(`has a non-scalar value at model.config.${k}`);
    }
    config[k] = v as ConfigValue;
  }
  const training = r.obj(h.training, 'training');
  const optimizer = readOptimizer(r, h, version, fail);
  const lrSchedule = readSchedule(r, h, version, fail);
  const gens = r.obj(h.generators, 'generators');
  const data = r.obj(h.data, 'data');
  const metrics = r.obj(h.metrics, 'metrics');

  const epochs: EpochMetrics[] = r.arr(metrics.epochs, 'metrics.epochs').map((v, i) => {
    const m = r.obj(v, `metrics.epochs[${i}]`);
    const at = (k: string): string => `metrics.epochs[${i}].${k}`;
    return {
      epoch: r.int(m.epoch, at('epoch')),
      trainLoss: r.metric(m.trainLoss, at('trainLoss')),
      valLoss: r.metric(m.valLoss, at('valLoss')),
      valAcc: r.metric(m.valAcc, at('valAcc')),
      epochSeconds: r.metric(m.epochSeconds, at('epochSeconds')),
      samplesPerSecond: r.metric(m.samplesPerSecond, at('samplesPerSecond')),
    };
  });
  const board: BoardPoint[] = r.arr(metrics.board, 'metrics.board').map((v, i) => {
    const p = r.obj(v, `metrics.board[${i}]`);
    const metric = p.metric as BoardMetric;
    if (!BOARD_METRICS.includes(metric)) throw fail(`has an unknown metric at metrics.board[${i}]`);
    return {
      metric,
      epoch: r.num(p.epoch, `metrics.board[${i}].epoch`),
      value: r.metric(p.value, `metrics.board[${i}].value`),
    };
  });

  // The tensor table: contiguous, in range, and exactly as large as the payload.
  const payloadInfo = r.obj(h.payload, 'payload');
  const payloadBytes = r.int(payloadInfo.bytes, 'payload.bytes', MAX_CHECKPOINT_PAYLOAD_BYTES);
  const payloadSum = r.str(payloadInfo.sha256, 'payload.sha256');
  const maxElements = payloadBytes / 4;
  const entries: TensorEntry[] = [];
  const seen = new Set<string>();
  let next = 0;
  for (const [i, v] of r.arr(h.tensors, 'tensors').entries()) {
    const t = r.obj(v, `tensors[${i}]`);
    const tName = r.str(t.name, `tensors[${i}].name`);
    const role = t.role;
    const roles =
      optimizer.hparams.name === 'SGD' ? ['param', 'momentum'] : ['param', 'exp_avg', 'exp_avg_sq'];
    if (typeof role !== 'string' || !roles.includes(role))
      throw fail(`has an unknown role at tensors[${i}].role for optimizer ${optimizer.hparams.name}`);
    const shape = r
      .arr(t.shape, `tensors[${i}].shape`)
      .map((d, j) => r.int(d, `tensors[${i}].shape[${j}]`, maxElements));
    if (shape.length > 8) throw fail(`has a ${shape.length}-D tensor at tensors[${i}]; at most 8 dims`);
    const offset = r.int(t.offset, `tensors[${i}].offset`, maxElements);
    const length = r.int(t.length, `tensors[${i}].length`, maxElements);
    // Products of dims each ≤ 2^28 stay exact in float64 long enough to exceed the bound and stop.
    let size = 1;
    for (const d of shape) size *= d;
    if (size !== length) {
      throw fail(`has tensors[${i}] (${tName}) of shape ${formatShape(shape)} but length ${length}`);
    }
    if (offset !== next || offset + length > maxElements) {
      throw fail(
        `has tensors[${i}] (${tName}) at elements ${offset}…${offset + length}, outside the packed payload of ${maxElements}`,
      );
    }
    const key = `${role}:${tName}`;
    if (seen.has(key)) throw fail(`lists ${role} ${tName} twice`);
    seen.add(key);
    entries.push({ name: tName, role: role as TensorEntry['role'], shape, offset, length });
    next = offset + length;
  }
  if (next * 4 !== payloadBytes) {
    throw fail(`has tensors totalling ${next * 4} bytes but a payload of ${payloadBytes} bytes`);
  }
  for (const e of entries) {
    if (e.role !== 'param' && !seen.has(`param:${e.name}`)) {
      throw fail(`has a ${e.role} buffer for ${e.name}, which is not a parameter`);
    }
  }

  const stepInEpoch = r.int(training.stepInEpoch, 'training.stepInEpoch');
  let partial: PartialEpoch | undefined;
  if (version === 1 && stepInEpoch !== 0) throw fail('is a version 1 checkpoint written mid-epoch');
  if (stepInEpoch > 0) {
    const pe = r.obj(training.partial, 'training.partial');
    partial = {
      sum: r.num(pe.sum, 'training.partial.sum'),
      count: r.int(pe.count, 'training.partial.count'),
      epochSum: r.num(pe.epochSum, 'training.partial.epochSum'),
      epochCount: r.int(pe.epochCount, 'training.partial.epochCount'),
      seconds: r.num(pe.seconds, 'training.partial.seconds'),
    };
  } else if (training.partial !== undefined) {
    throw fail('has training.partial at an epoch boundary (stepInEpoch 0)');
  }
  const fields: CheckpointFields = {
    modelClass: r.str(model.className, 'model.className'),
    config,
    epoch: r.int(training.epoch, 'training.epoch'),
    stepInEpoch,
    ...(partial === undefined ? {} : { partial }),
    optimizer: optimizer.hparams,
    ...(optimizer.step === undefined ? {} : { adamwStep: optimizer.step }),
    ...(lrSchedule === undefined ? {} : { lrSchedule }),
    generators: {
      model: r.generator(gens.model, 'generators.model'),
      data: gens.data === null ? null : r.generator(gens.data, 'generators.data'),
    },
    data: {
      batchSize: r.int(data.batchSize, 'data.batchSize'),
      numTrain: r.int(data.numTrain, 'data.numTrain'),
      numVal: r.int(data.numVal, 'data.numVal'),
      position: r.int(data.position, 'data.position'),
    },
    metrics: { epochs, board },
  };
  return { fields, tensors: entries, payload: { bytes: payloadBytes, sha256: payloadSum } };
}

/** The optimiser's hyperparameters (SGD in every version, AdamW from version 3) and AdamW's step count. */
function readOptimizer(
  r: Reader,
  h: Record<string, Json>,
  version: number,
  fail: (problem: string) => DataError,
): { hparams: OptimizerHparams; step?: number } {
  const opt = r.obj(h.optimizer, 'optimizer');
  if (opt.name === 'SGD') {
    return {
      hparams: {
        name: 'SGD',
        lr: r.num(opt.lr, 'optimizer.lr'),
        momentum: r.num(opt.momentum, 'optimizer.momentum'),
        weightDecay: r.num(opt.weightDecay, 'optimizer.weightDecay'),
        maxNorm: opt.maxNorm === null ? null : r.num(opt.maxNorm, 'optimizer.maxNorm'),
      },
    };
  }
  if (opt.name !== 'AdamW' || version < 3) {
    const expected = version < 3 ? '"SGD"' : '"SGD" or "AdamW"';
    throw fail(`names optimizer ${JSON.stringify(opt.name) ?? 'nothing'}, expected ${expected}`);
  }
  const betas = r.arr(opt.betas, 'optimizer.betas');
  if (betas.length !== 2) throw fail('has no pair [β₁, β₂] at optimizer.betas');
  const state = r.obj(h.optimizerState, 'optimizerState');
  return {
    hparams: {
      name: 'AdamW',
      lr: r.num(opt.lr, 'optimizer.lr'),
      betas: [r.num(betas[0], 'optimizer.betas[0]'), r.num(betas[1], 'optimizer.betas[1]')],
      eps: r.num(opt.eps, 'optimizer.eps'),
      weightDecay: r.num(opt.weightDecay, 'optimizer.weightDecay'),
    },
    step: r.int(state.step, 'optimizerState.step'),
  };
}

/** The warm-up + cosine schedule of a version-3 header (absent: a constant rate). */
function readSchedule(
  r: Reader,
  h: Record<string, Json>,
  version: number,
  fail: (problem: string) => DataError,
): LrScheduleState | undefined {
  if (h.lrSchedule === undefined) return undefined;
  if (version < 3) throw fail(`is a version ${version} checkpoint with a learning-rate schedule`);
  const s = r.obj(h.lrSchedule, 'lrSchedule');
  if (s.name !== 'warmup-cosine') {
    throw fail(`names schedule ${JSON.stringify(s.name) ?? 'nothing'}, expected "warmup-cosine"`);
  }
  const warmupSteps = r.int(s.warmupSteps, 'lrSchedule.warmupSteps');
  const totalSteps = r.int(s.totalSteps, 'lrSchedule.totalSteps');
  if (totalSteps < warmupSteps) throw fail('has lrSchedule.totalSteps below its warmupSteps');
  return {
    name: 'warmup-cosine',
    warmupSteps,
    totalSteps,
    minLr: r.num(s.minLr, 'lrSchedule.minLr'),
    step: r.int(s.step, 'lrSchedule.step'),
  };
}
