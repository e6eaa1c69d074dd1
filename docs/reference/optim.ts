/**
 * Optimisers and learning-rate schedules (torch.optim, `optim` in `dropout-lab`).
 * @module optim
 */
export * from '../../src/optim/index.js';
