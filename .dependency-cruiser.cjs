/* global module */
// The layering of src/, checked by `npm run lint:deps` (part of `npm test`): no import cycles, and no
// import that runs up the layers. A layer may import its own and any lower layer; ARCHITECTURE.md
// draws them. CommonJS because dependency-cruiser loads its configuration with require().
const LAYERS = [
  ['errors', '^src/errors\\.ts$'],
  ['random', '^src/random/'],
  ['backend', '^src/backend/'],
  ['tensor', '^src/(tensor|autograd)/'],
  ['ops', '^src/ops/'],
  ['nn', '^src/(nn|optim)/'],
  ['data', '^src/data/'],
  ['train', '^src/train/'],
  ['models', '^src/models/'],
  ['run', '^src/run/'],
  ['entry', '^src/(index|internals)\\.ts$'],
  ['node', '^src/(node/|node\\.ts$)'],
  ['services', '^src/(experiments|queue)/'],
  ['app', '^src/(cli|web)/'],
];

/** One rule per layer: it may not import anything of a higher layer. */
const upward = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `no-upward-from-${name}`,
  comment: `${name} sits below ${LAYERS.slice(i + 1)
    .map(([n]) => n)
    .join(', ')}; move the shared code down, or pass it in.`,
  severity: 'error',
  from: { path },
  to: { path: LAYERS.slice(i + 1).map(([, p]) => p) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: the files cannot be understood (or tested) one at a time.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upward,
    {
      name: 'browser-stays-out-of-node',
      comment:
        'The lab runs in the browser: it may not import the Node services, the CLI or the experiments.',
      severity: 'error',
      from: { path: '^src/web/' },
      to: { path: '^src/(node/|node\\.ts$|cli/|experiments/|queue/)' },
    },
    {
      name: 'cli-and-web-are-apart',
      comment: 'The CLI and the lab page are two shells over the same layers; neither imports the other.',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/web/' },
    },
    {
      name: 'every-layer-is-known',
      comment: 'A new folder of src/ needs a place in the layers (.dependency-cruiser.cjs, ARCHITECTURE.md).',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map(([, p]) => p) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    exclude: { path: '\\.generated\\.ts$|^src/backend/wasm/assembly/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
