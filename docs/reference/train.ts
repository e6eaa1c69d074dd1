/**
 * d2l's training scaffolding (`d2l` in `dropout-lab`): Module, Classifier, DataModule, Trainer,
 * ProgressBoard, Fashion-MNIST, checkpoints and dropout schedules.
 * @module train
 */
export * from '../../src/train/index.js';
