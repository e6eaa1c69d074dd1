/**
 * Node-only helpers (`dropout-lab/node`): Fashion-MNIST's files, checkpoint and safetensors files.
 * @module node
 */
export * from '../../src/node.js';
