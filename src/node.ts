/** Node-only entry point: finding, verifying and loading the Fashion-MNIST files. */
import { FashionMNIST, type FashionMNISTOptions } from './data/fashionMnist.js';
import { loadFashionMnistRaw, type LoadOptions } from './node/data/fashionMnistFiles.js';

export {
  loadFashionMnistRaw,
  defaultCacheDir,
  FASHION_MNIST_SHA256,
  SYSTEM_DATA_DIR,
  type LoadOptions,
  type FashionMnistRaw,
  type DownloadProgress,
} from './node/data/fashionMnistFiles.js';

export { checkpointDir, loadCheckpoint, saveCheckpoint } from './node/checkpointFiles.js';
export { loadSafetensorsFile, saveSafetensorsFile } from './node/safetensorsFile.js';

/** Finds (or downloads), verifies and loads Fashion-MNIST into a FashionMNIST data module. */
export async function loadFashionMNIST(opts: FashionMNISTOptions & LoadOptions = {}): Promise<FashionMNIST> {
  const raw = await loadFashionMnistRaw(opts);
  return new FashionMNIST(raw, opts);
}
