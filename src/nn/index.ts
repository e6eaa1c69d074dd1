/** nn: modules and layers (PyTorch names). */
export { Module, type StateDict } from './module.js';
export { Dropout, Flatten, LazyLinear, Linear, ReLU, Sequential, type LayerRandomOptions } from './layers.js';
