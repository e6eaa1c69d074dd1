/**
 * The API reference (`npm run docs`, TypeDoc over docs/reference/): every export of `dropout-lab` and
 * `dropout-lab/node` sits in one of its sections (PyTorch's: tensor, nn, nn.functional, optim, data,
 * train, random, node) and has a doc comment, the examples in doc comments (and the README's) type-check
 * against the sources, and TypeDoc builds the site with its own validation (undocumented members, broken links)
 * as errors.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(import.meta.dirname, '..', '..');
const REFERENCE = join(ROOT, 'docs', 'reference');
const SECTIONS = ['tensor', 'nn', 'nn.functional', 'optim', 'data', 'train', 'random', 'node'];
/** The namespaces `dropout-lab` exports, and the section that documents each. */
const NAMESPACES: Record<string, string> = { nn: 'nn', F: 'nn.functional', optim: 'optim', d2l: 'train' };

const program = ts.createProgram(
  [
    join(ROOT, 'src', 'index.ts'),
    join(ROOT, 'src', 'node.ts'),
    ...SECTIONS.map((s) => join(REFERENCE, `${s}.ts`)),
  ],
  {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  },
);
const checker = program.getTypeChecker();

/** The exported symbols of a module file (aliases resolved) by name. */
function exportsOf(file: string): Map<string, ts.Symbol> {
  const source = program.getSourceFile(file);
  assert.ok(source !== undefined, file);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  assert.ok(moduleSymbol !== undefined, `${file} is a module`);
  return exportsOfSymbol(moduleSymbol);
}

function exportsOfSymbol(moduleSymbol: ts.Symbol): Map<string, ts.Symbol> {
  const out = new Map<string, ts.Symbol>();
  for (const s of checker.getExportsOfModule(moduleSymbol)) {
    out.set(s.name, s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  }
  return out;
}

const sections = new Map(SECTIONS.map((s) => [s, exportsOf(join(REFERENCE, `${s}.ts`))]));

describe('the API reference', () => {
  it('puts every export of dropout-lab and dropout-lab/node in its section', () => {
    const missing: string[] = [];
    for (const [name, symbol] of exportsOf(join(ROOT, 'src', 'index.ts'))) {
      const section = NAMESPACES[name];
      if (section !== undefined) {
        for (const member of exportsOfSymbol(symbol).keys()) {
          if (!sections.get(section)!.has(member)) missing.push(`${name}.${member} (in ${section})`);
        }
      } else if (!SECTIONS.some((s) => sections.get(s)!.get(name) === symbol)) {
        missing.push(`${name} (dropout-lab)`);
      }
    }
    for (const name of exportsOf(join(ROOT, 'src', 'node.ts')).keys()) {
      if (!sections.get('node')!.has(name)) missing.push(`${name} (dropout-lab/node, in node)`);
    }
    assert.deepEqual(missing, [], 'add each to its section in docs/reference/');
  });

  it('has a doc comment on every export and on every method of an exported class or interface', () => {
    const undocumented: string[] = [];
    // A namespace export (`export * as init from './init.js'`) is documented by its file's head comment.
    const fileHead = (s: ts.Symbol): boolean => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      const file = target.declarations?.find(ts.isSourceFile);
      if (file === undefined) return false;
      const first = ts.getLeadingCommentRanges(file.text, 0)?.[0];
      return first !== undefined && file.text.startsWith('/**', first.pos);
    };
    const documented = (s: ts.Symbol): boolean =>
      ts.displayPartsToString(s.getDocumentationComment(checker)).trim() !== '' || fileHead(s);
    for (const [section, members] of sections) {
      for (const [name, symbol] of members) {
        if (!documented(symbol)) undocumented.push(`${section}.${name}`);
        if (!(symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface))) continue;
        for (const [key, member] of symbol.members ?? new Map<ts.__String, ts.Symbol>()) {
          const method = member.flags & ts.SymbolFlags.Method;
          const hidden = member.declarations?.some(
            (d) => ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected),
          );
          const own = member.declarations?.some((d) => !d.getSourceFile().isDeclarationFile);
          if (method && own && !hidden && !String(key).startsWith('#') && !documented(member)) {
            undocumented.push(`${section}.${name}.${String(key)}`);
          }
        }
      }
    }
    assert.deepEqual(undocumented, [], 'give each a one-line doc comment');
  });

  it("type-checks every example in a doc comment, and the README's, against the sources", () => {
    const examples: { where: string; code: string }[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts')) {
          const text = readFileSync(path, 'utf8');
          for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
            const body = comment[0].replace(/^\s*\*( |$)/gm, '');
            for (const fence of body.matchAll(/```ts\n([\s\S]*?)```/g)) {
              const line = text.slice(0, comment.index).split('\n').length;
              examples.push({ where: `${relative(ROOT, path)}:${line}`, code: fence[1]! });
            }
          }
        }
      }
    };
    walk(join(ROOT, 'src'));
    assert.ok(examples.length >= 2, `found ${examples.length} examples`);
    // The README's library example too: it is the first code a user copies.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const fences = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)];
    assert.ok(fences.length >= 1, 'the README has a TypeScript example');
    for (const f of fences) {
      examples.push({ where: `README.md:${readme.slice(0, f.index).split('\n').length}`, code: f[1]! });
    }
    // Inside the repository (build/ is ignored), so the examples resolve Node's types and ESM as src/ does.
    const dir = join(ROOT, 'build', `doc-examples-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      const files = examples.map((e, i) => {
        const file = join(dir, `example-${i}.ts`);
        writeFileSync(file, `// ${e.where}\n${e.code}\nexport {};\n`);
        return file;
      });
      const check = ts.createProgram(files, {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        strict: true,
        exactOptionalPropertyTypes: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        paths: {
          'dropout-lab': [join(ROOT, 'src', 'index.ts')],
          'dropout-lab/node': [join(ROOT, 'src', 'node.ts')],
        },
      });
      const errors = ts
        .getPreEmitDiagnostics(check)
        .filter((d) => d.file !== undefined && files.includes(d.file.fileName))
        .map((d) => {
          const i = files.indexOf(d.file!.fileName);
          return `${examples[i]!.where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
        });
      assert.deepEqual(errors, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds with TypeDoc, offline, its validation warnings (undocumented, broken links) as errors', () => {
    const run = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc'),
        '--options',
        join(REFERENCE, 'typedoc.json'),
        '--emit',
        'none',
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 300_000 },
    );
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  });
});
