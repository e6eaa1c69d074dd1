/**
 * Modules and layers (torch.nn, `nn` in `dropout-lab`), the book's dropout MLPs, and weights as
 * safetensors.
 * @module nn
 */
export * from '../../src/nn/index.js';
export {
  DropoutMLP,
  DropoutMLPScratch,
  MLP,
  BOOK_HPARAMS,
  type DropoutMLPConfig,
  type ResolvedDropoutMLPConfig,
  loadSafetensors,
  saveSafetensors,
  type SafetensorsContents,
} from '../../src/index.js';
