/**
 * Seeded, counter-based randomness (torch.Generator, torch.manual_seed, torch.randperm).
 * @module random
 */
export { Generator, defaultGenerator, manualSeed, randperm, type GeneratorState } from '../../src/index.js';
