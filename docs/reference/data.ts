/**
 * Datasets and minibatches (torch.utils.data). Fashion-MNIST's data module is in `train`; its files
 * in `node`.
 * @module data
 */
export {
  DataLoader,
  TensorDataset,
  type DataLoaderOptions,
  type HostColumn,
  type TensorBatch,
} from '../../src/index.js';
