// Builds GraphiQL into ../../gateway/graphiql/static/ and writes
// ../../gateway/graphiql/manifest.json: file digests (the page's Subresource
// Integrity and the test suite both read them), the entry files, and the
// versions of every bundled package. THIRD_PARTY_LICENSES.txt is gathered from
// the packages esbuild actually bundled.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir = path.resolve(here, '../../gateway/graphiql');
const outdir = path.join(packageDir, 'static');
const LICENSES = 'THIRD_PARTY_LICENSES.txt';

const common = {
  absWorkingDir: here,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome111', 'edge111', 'firefox111', 'safari16.4'],
  charset: 'utf8',
  // Every license text goes into THIRD_PARTY_LICENSES.txt, served beside the bundles.
  legalComments: 'none',
  banner: { js: `/*! Bundled third-party software; licenses in ${LICENSES} */`, css: `/*! Bundled third-party software; licenses in ${LICENSES} */` },
  define: { 'process.env.NODE_ENV': '"production"' },
  // Content-hashed names let the gateway serve them as immutable.
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  loader: { '.ttf': 'file' },
  metafile: true,
  outdir,
  logLevel: 'warning',
};

fs.rmSync(outdir, { recursive: true, force: true });
const page = await esbuild.build({
  ...common,
  entryPoints: { graphiql: 'src/main.js' },
});
const workers = await esbuild.build({
  ...common,
  entryPoints: {
    'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
    'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
    'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
  },
});

function outputName(metafile, entryPoint) {
  const found = Object.entries(metafile.outputs).find(([, output]) => output.entryPoint === entryPoint);
  if (!found) throw new Error(`no output for ${entryPoint}`);
  return { js: path.basename(found[0]), css: found[1].cssBundle && path.basename(found[1].cssBundle) };
}

const main = outputName(page.metafile, 'src/main.js');
const entries = {
  script: main.js,
  style: main.css,
  workers: {
    editor: outputName(workers.metafile, 'node_modules/monaco-editor/esm/vs/editor/editor.worker.js').js,
    json: outputName(workers.metafile, 'node_modules/monaco-editor/esm/vs/language/json/json.worker.js').js,
    graphql: outputName(workers.metafile, 'node_modules/monaco-graphql/esm/graphql.worker.js').js,
  },
  licenses: LICENSES,
};

// The package that owns each bundled input: the path up to its last node_modules/<name>.
function packageRoot(input) {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return null;
  const length = parts[at + 1].startsWith('@') ? 3 : 2;
  return parts.slice(0, at + length).join('/');
}

const roots = new Set();
for (const metafile of [page.metafile, workers.metafile]) {
  for (const input of Object.keys(metafile.inputs)) {
    const root = packageRoot(input);
    if (root) roots.add(root);
  }
}

const NOTICE_FILE = /^(licen[cs]e|copying|notice|thirdpartynotices)([-.][a-z0-9.-]*)?$/i;
// Packages published without a license file, and the package from the same
// source repository whose license file covers them.
const LICENSE_FROM = {
  'react-compiler-runtime': 'react', // both from github.com/facebook/react, MIT
};

const MIT_LICENSE = `MIT License

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.`;

function licenseTexts(dir) {
  return fs
    .readdirSync(dir)
    .filter((name) => NOTICE_FILE.test(name))
    .sort()
    .map((name) => fs.readFileSync(path.join(dir, name), 'utf8').trim());
}

const bundled = new Map();
for (const root of roots) {
  const meta = JSON.parse(fs.readFileSync(path.join(here, root, 'package.json'), 'utf8'));
  const id = `${meta.name}@${meta.version}`;
  if (bundled.has(id)) continue;
  let texts = licenseTexts(path.join(here, root));
  if (texts.length === 0 && LICENSE_FROM[meta.name]) {
    const source = LICENSE_FROM[meta.name];
    texts = [
      `(${meta.name} ships no license file; the license of ${source}, published from the same repository, follows.)`,
      ...licenseTexts(path.join(here, 'node_modules', source)),
    ];
  }
  if (texts.length === 0 && meta.license === 'MIT') {
    const author = typeof meta.author === 'string' ? meta.author : meta.author?.name;
    texts = [
      `(${meta.name} ships no license file; its package.json declares the MIT license${author ? `, author ${author}` : ''}. The MIT license text follows.)`,
      MIT_LICENSE,
    ];
  }
  if (texts.length === 0) {
    throw new Error(`${id} has no license file and does not declare MIT: add it to LICENSE_FROM`);
  }
  const repository = typeof meta.repository === 'string' ? meta.repository : meta.repository?.url;
  bundled.set(id, { name: meta.name, version: meta.version, license: meta.license, repository, texts });
}
const packages = [...bundled.values()].sort(
  (a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version),
);

const rule = '='.repeat(78);
const licenseText = [
  'Third-party software bundled in the GraphiQL files served by the contacts gateway,',
  'built by web/graphiql/build.mjs. Each package with its license text(s).',
  '',
  ...packages.flatMap((pkg) => [
    rule,
    `${pkg.name} ${pkg.version} (${pkg.license ?? 'see below'})`,
    ...(pkg.repository ? [pkg.repository] : []),
    rule,
    '',
    ...pkg.texts.flatMap((text) => [text, '']),
  ]),
].join('\n');
fs.writeFileSync(path.join(outdir, LICENSES), licenseText);

function digest(algorithm, bytes) {
  return createHash(algorithm).update(bytes).digest('base64');
}

const files = {};
for (const name of fs.readdirSync(outdir).sort()) {
  const bytes = fs.readFileSync(path.join(outdir, name));
  files[name] = {
    bytes: bytes.length,
    sha256: `sha256-${digest('sha256', bytes)}`,
    sha384: `sha384-${digest('sha384', bytes)}`,
  };
}

const manifest = {
  built_by: 'web/graphiql/build.mjs (npm run build)',
  esbuild: esbuild.version,
  packages: packages.map((pkg) => `${pkg.name}@${pkg.version}`),
  entries,
  files,
};
fs.writeFileSync(path.join(packageDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

for (const [name, file] of Object.entries(files)) {
  console.log(`${name.padEnd(40)} ${String(file.bytes).padStart(9)} bytes`);
}
