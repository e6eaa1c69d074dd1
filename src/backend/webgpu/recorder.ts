/**
 * Encoder batching: kernels are recorded, not run. Dispatches and copies go into one command encoder
 * (inside one compute pass while only dispatches follow each other) and are submitted lazily: when a
 * value is read, when the parameter arena is full, or on flush(). So a whole training step is one or
 * two command buffers. Work that must wait until the recorded commands are submitted (destroying a
 * buffer they still use) is queued with later().
 */

/** The open command encoder of a backend and what waits for its submission; see the file comment. */
export class Recorder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private afterSubmit: (() => void)[] = [];
  /** Commands recorded since the last submit. */
  commands = 0;
  /** Command buffers submitted so far. */
  submits = 0;
  /** Compute dispatches recorded so far. */
  dispatches = 0;

  /** Records on `device`; `beforeSubmit` runs first at every submit (to upload the parameter arena). */
  constructor(
    private readonly device: GPUDevice,
    private readonly beforeSubmit: () => void,
  ) {}

  /** The open encoder (opened on first use). */
  encoderNow(): GPUCommandEncoder {
    if (this.encoder === null) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  /** The open compute pass (begun on first use); ended by the next non-dispatch command. */
  computePass(): GPUComputePassEncoder {
    if (this.pass === null) this.pass = this.encoderNow().beginComputePass();
    return this.pass;
  }

  /** Ends the open compute pass, before a copy or clear is recorded. */
  endPass(): void {
    if (this.pass !== null) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Records a copy of `bytes` from the start of `from` to byte `toOffset` of `to`. */
  copy(from: GPUBuffer, to: GPUBuffer, bytes: number, toOffset = 0): void {
    this.endPass();
    this.encoderNow().copyBufferToBuffer(from, 0, to, toOffset, bytes);
    this.commands++;
  }

  /** Records a zero-fill of a whole buffer. */
  clear(buffer: GPUBuffer, bytes: number): void {
    this.endPass();
    this.encoderNow().clearBuffer(buffer, 0, bytes);
    this.commands++;
  }

  /** Runs `f` now when nothing is recorded, else after the next submit. */
  later(f: () => void): void {
    if (this.commands === 0) f();
    else this.afterSubmit.push(f);
  }

  /** Submits the recorded work, then runs what waited for it. */
  flush(): void {
    if (this.commands === 0) return;
    this.endPass();
    this.beforeSubmit();
    this.device.queue.submit([this.encoder!.finish()]);
    this.submits++;
    this.encoder = null;
    this.commands = 0;
    const pending = this.afterSubmit;
    this.afterSubmit = [];
    for (const f of pending) f();
  }
}
