/** optim: optimisers. */
export { SGD, type SGDOptions } from './sgd.js';
