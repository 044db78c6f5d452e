// The product's import graph points one way (docs/local-stack.md, Layers): each layer imports only the
// layers below it, no product file imports a local stand-in (devstack/), the stand-ins use the product only
// through its package exports, and no files of one wing import each other in a circle. Read from the source with the TypeScript parser: every `import` and `export ... from`, type-only
// ones included (a type import still ties a module to the one it names, and a circle of types is a circle
// of knowledge), and every `import('...')`, `require('...')` and `import('...').T` type.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src');
const DEVSTACK = path.join(ROOT, 'devstack');
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
};

/** The package's exported paths (`finetune-flow`, `finetune-flow/config`, ...) and the src/ file each one is. */
const EXPORTED = new Map(
  Object.entries(PACKAGE.exports)
    .filter(([subpath, target]) => typeof target === 'object' && !subpath.startsWith('./dist'))
    .map(([subpath, target]) => [
      `finetune-flow${subpath === '.' ? '' : subpath.slice(1)}`,
      path.join(SRC, (target as { default: string }).default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')),
    ]),
);

/**
 * The product's layers, top to bottom; a folder of src/ (or a file at its root, without `.ts`) in each.
 * A layer may import the layers below it, never one above; the units of one layer do not import each other.
 * cli sits above api because `ftflow admin` manages the API's keys (src/api/keys.ts). docs/local-stack.md
 * (Layers) lists the same rows: change both together.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['cli', 'worker', 'scripts'],
  ['api'],
  ['client'],
  ['control'],
  ['workflows'],
  ['activities'],
  ['azure', 'webhooks'],
  ['dataset'],
  ['codec', 'observability', 'cost'],
  ['runSpec', 'config'],
];

interface Edge {
  /** Paths relative to the repository root: src/... or devstack/... */
  from: string;
  to: string;
  typeOnly: boolean;
  /** The import named the product by its package name (`finetune-flow/...`), not by a relative path. */
  viaPackage: boolean;
}

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => !(e.isDirectory() && dir === DEVSTACK && e.name === 'dist'))
    .flatMap((e) =>
      e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
    );
}

/** The file a specifier names (`./x` as x.ts or x/index.ts; `finetune-flow/...` by the package's exports), or undefined for another package. */
function resolve(fromFile: string, specifier: string): { file: string; viaPackage: boolean } | undefined {
  if (specifier === 'finetune-flow' || specifier.startsWith('finetune-flow/')) {
    const file = EXPORTED.get(specifier);
    if (!file) throw new Error(`${path.relative(ROOT, fromFile)}: ${specifier} is not an export of package.json`);
    return { file, viaPackage: true };
  }
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(fromFile), specifier);
  const found = [`${base}.ts`, path.join(base, 'index.ts'), base].find(
    (f) => fs.existsSync(f) && fs.statSync(f).isFile(),
  );
  if (!found) throw new Error(`${path.relative(ROOT, fromFile)}: cannot resolve ${specifier}`);
  return { file: found, viaPackage: false };
}

function isTypeOnly(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return (
    clause.name === undefined &&
    named !== undefined &&
    ts.isNamedImports(named) &&
    named.elements.length > 0 &&
    named.elements.every((e) => e.isTypeOnly)
  );
}

/** Every import of every file under src/ and devstack/, as paths relative to the repository root. */
function importGraph(): Edge[] {
  const edges: Edge[] = [];
  for (const file of [...sourceFiles(SRC), ...sourceFiles(DEVSTACK)]) {
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const add = (specifier: string, typeOnly: boolean) => {
      const target = resolve(file, specifier);
      if (target) {
        const to = path.relative(ROOT, target.file);
        edges.push({ from: path.relative(ROOT, file), to, typeOnly, viaPackage: target.viaPackage });
      }
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text, isTypeOnly(node));
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text, node.isTypeOnly);
      } else if (
        ts.isCallExpression(node) &&
        (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
          (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
        node.arguments.length > 0 &&
        ts.isStringLiteral(node.arguments[0])
      ) {
        add(node.arguments[0].text, false);
      } else if (
        ts.isImportTypeNode(node) &&
        ts.isLiteralTypeNode(node.argument) &&
        ts.isStringLiteral(node.argument.literal)
      ) {
        add(node.argument.literal.text, true);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return edges;
}

const wingOf = (file: string) => file.split(path.sep)[0];
const inProduct = (file: string) => wingOf(file) === 'src';
const inDevstack = (file: string) => wingOf(file) === 'devstack';

/** The unit a product file belongs to: its top folder under src/, or its name for a file at src/'s root. */
function unitOf(file: string): string {
  const parts = file.split(path.sep).slice(1);
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.ts$/, '');
}

function layerOf(unit: string): number {
  return LAYERS.findIndex((layer) => layer.includes(unit));
}

/** Strongly connected components with more than one file (Tarjan), each a circle of imports. */
function circles(edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort()) if (!index.has(v)) connect(v);
  return found;
}

const describeEdge = (e: Edge) => `${e.from} -> ${e.to}${e.typeOnly ? ' (type only)' : ''}`;

describe('the import graph of src/ points down the layers', () => {
  const edges = importGraph();
  const product = edges.filter((e) => inProduct(e.from));

  test('the graph was read', () => {
    expect(product.length).toBeGreaterThan(100);
    expect(product.some((e) => e.from === path.join('src', 'workflows', 'fineTune.ts'))).toBe(true);
  });

  test('every product folder has a layer', () => {
    const units = [...new Set(sourceFiles(SRC).map((f) => unitOf(path.relative(ROOT, f))))];
    const unplaced = units.filter((u) => layerOf(u) < 0);
    expect(unplaced.map((u) => `src/${u} is in no layer: add it to LAYERS in test/repository/layers.test.ts`)).toEqual(
      [],
    );
  });

  test('no product file imports a local stand-in (devstack/)', () => {
    expect(product.filter((e) => !inProduct(e.to)).map(describeEdge)).toEqual([]);
  });

  test('no import points up the layers, nor across to another unit of the same layer', () => {
    const wrong = product.filter((e) => {
      const from = unitOf(e.from);
      const to = unitOf(e.to);
      if (from === to) return false;
      return layerOf(to) <= layerOf(from);
    });
    expect(wrong.map((e) => `${describeEdge(e)}: ${unitOf(e.from)} may not import ${unitOf(e.to)}`)).toEqual([]);
  });

  test('no circle of imports among the product files', () => {
    expect(circles(product).map((c) => c.join(' <-> '))).toEqual([]);
  });
});

describe('the local stand-ins (devstack/) use the product through its package exports only', () => {
  const edges = importGraph().filter((e) => inDevstack(e.from));

  test('the graph was read', () => {
    expect(edges.filter((e) => inDevstack(e.to)).length).toBeGreaterThan(50);
    expect(edges.filter((e) => e.viaPackage).length).toBeGreaterThan(5);
  });

  test('every import of a product file names the package (finetune-flow/...), never a path into src/', () => {
    const wrong = edges.filter((e) => inProduct(e.to) && !e.viaPackage);
    expect(wrong.map((e) => `${describeEdge(e)}: import it from 'finetune-flow/...'`)).toEqual([]);
  });

  test('tsconfig.json maps each exported path to the same source file the package exports', () => {
    const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { paths: Record<string, string[]> };
    };
    const mapped = Object.entries(tsconfig.compilerOptions.paths).map(([name, [file]]) => [
      name,
      path.join(ROOT, file),
    ]);
    expect(Object.fromEntries(mapped)).toEqual(Object.fromEntries(EXPORTED));
  });

  test('no circle of imports among the stand-ins', () => {
    expect(circles(edges.filter((e) => inDevstack(e.to))).map((c) => c.join(' <-> '))).toEqual([]);
  });
});
