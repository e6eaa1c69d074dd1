/**
 * The JSON-lines protocol between scripts/bench.ts and its peer processes (the Node peers in
 * peer.ts and the PyTorch peer in scripts/bench_torch.py). A peer loads the data and builds its
 * model before it answers `ready`, so none of that is timed; then it trains only when told:
 *
 *   → {"cmd":"epoch","steps":null}   a full shuffled epoch (or "steps": N, the first N batches)
 *   ← {"event":"epoch","seconds":…,"samples":…,"steps":…,"loss":…,"rss_kb":…,"maxrss_kb":…}
 *   → {"cmd":"quit"}
 *
 * Every reply is one line on stdout; anything else a peer prints goes to stderr.
 */
import { createInterface } from 'node:readline';

/**
 * The model a peer trains: the book's dropout MLP, the same MLP without dropout, or the LeNet-style
 * CNN of `--model cnn` (src/models/cnn.ts: conv 1→6 5×5 pad 2, ReLU, max-pool 2, conv 6→16 5×5, ReLU,
 * max-pool 2, then 400→hidden1→hidden2→10 with ReLU; no dropout), or the tiny ViT of `--model vit`
 * (src/models/vit.ts: 7×7 patches → 16 tokens + class token, width 64, 4 pre-norm blocks of 4 heads
 * and MLP 128; no dropout).
 */
export type ModelKind = 'dropout' | 'mlp' | 'cnn' | 'vit';

/** Hyperparameters every peer uses (the book's). */
export interface HParams {
  readonly batchSize: number;
  readonly lr: number;
  readonly hidden1: number;
  readonly hidden2: number;
  readonly dropout1: number;
  readonly dropout2: number;
  readonly seed: number;
}

/** The book's hyperparameters for the dropout section. */
export const BOOK: HParams = {
  batchSize: 256,
  lr: 0.1,
  hidden1: 256,
  hidden2: 256,
  dropout1: 0.5,
  dropout2: 0.5,
  seed: 0,
};

/** What a Node peer is told on its command line (JSON in argv[2]). */
export interface NodePeerSpec {
  readonly system: 'lab-wasm' | 'lab-js' | 'lab-webgpu' | 'tfjs-wasm' | 'tfjs-cpu' | 'jaxjs';
  readonly threads: number;
  /** wasm only: false turns the sparse × dense matmul path off (default 'auto': measured per shape). */
  readonly sparse?: boolean;
  /** Run a full GC after each epoch's RSS sample and report the heap left (the soak; --expose-gc). */
  readonly gcAfterEpoch?: boolean;
  readonly model: ModelKind;
  readonly hparams: HParams;
  readonly dataDir?: string | undefined;
}

/** A command sent to a peer. */
export type Command = { readonly cmd: 'epoch'; readonly steps: number | null } | { readonly cmd: 'quit' };

/** The `ready` reply: what the peer runs, and its memory once data and model are in place. */
export interface ReadyReply {
  readonly event: 'ready';
  readonly system: string;
  /** Engine details (backend, kernel variant, threads, library versions). */
  readonly info: Record<string, string | number | boolean>;
  readonly num_train: number;
  readonly rss_kb: number;
  readonly maxrss_kb: number;
}

/** The reply to `epoch`: training-phase wall time of the steps run, and memory afterwards. */
export interface EpochReply {
  readonly event: 'epoch';
  readonly seconds: number;
  readonly samples: number;
  readonly steps: number;
  /** Mean training loss of the steps (a sanity check that it really trains). */
  readonly loss: number;
  readonly rss_kb: number;
  readonly maxrss_kb: number;
  /** Bytes the engine holds (wasm heap), where the peer can tell. */
  readonly engine_bytes?: number;
  /** GEMM flops of the steps (2·m·n·k per product), where the peer can count them (dropout-lab's). */
  readonly gemm_flops?: number;
  /** V8 heap in use after a full garbage collection (peers told gcAfterEpoch, run with --expose-gc). */
  readonly heap_gc_kb?: number;
}

/** A failure reported by a peer before it exits. */
export interface ErrorReply {
  readonly event: 'error';
  readonly message: string;
}

/** Any reply. */
export type Reply = ReadyReply | EpochReply | ErrorReply;

/** Peer side: serves commands from stdin one at a time until `quit` or end of input. */
export async function serve(
  ready: () => Promise<ReadyReply>,
  epoch: (steps: number | null) => Promise<EpochReply>,
): Promise<void> {
  const send = (r: Reply): void => {
    process.stdout.write(JSON.stringify(r) + '\n');
  };
  try {
    send(await ready());
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of rl) {
      if (line.trim() === '') continue;
      const cmd = JSON.parse(line) as Command;
      if (cmd.cmd === 'quit') break;
      send(await epoch(cmd.steps));
    }
    rl.close();
  } catch (e) {
    send({ event: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    process.exitCode = 1;
  }
}

/** Current and peak resident set size of this process, in KiB. */
export function rssNow(): { rss_kb: number; maxrss_kb: number } {
  return {
    rss_kb: Math.round(process.memoryUsage.rss() / 1024),
    maxrss_kb: process.resourceUsage().maxRSS,
  };
}
