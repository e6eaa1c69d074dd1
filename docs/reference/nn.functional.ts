/**
 * The functional forms (torch.nn.functional, `F` in `dropout-lab`; the dropout family is also exported
 * at the top level).
 * @module nn.functional
 */
export * from '../../src/nn/functional.js';
export {
  checkDropoutP,
  alphaDropoutCoefficients,
  SELU_ALPHA,
  SELU_SCALE,
  applyMaxNorm,
} from '../../src/index.js';
