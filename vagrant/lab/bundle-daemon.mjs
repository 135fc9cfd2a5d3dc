// Bundles `xlss daemon` into one file for the lab's guests (see daemon/bin.ts): node
// loads one module over 9p instead of hundreds. Native modules stay outside.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../../daemon/bin.ts', import.meta.url).pathname],
  outfile: new URL('../../dist/xlss-daemon.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['better-sqlite3'],
  logLevel: 'warning',
  // CommonJS dependencies expect require, __filename and __dirname (write-file-atomic
  // names its temp files after __filename: without it every spec write failed).
  banner: {
    js: [
      "import { createRequire } from 'node:module';",
      "import { fileURLToPath as xlssFileUrlToPath } from 'node:url';",
      "import { dirname as xlssDirname } from 'node:path';",
      'const require = createRequire(import.meta.url);',
      'const __filename = xlssFileUrlToPath(import.meta.url);',
      'const __dirname = xlssDirname(__filename);',
    ].join(' '),
  },
});
