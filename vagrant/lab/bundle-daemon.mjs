// Bundles `xlss daemon` into one file for the lab's guests (see daemon/bin.ts): node
// loads one module over 9p instead of hundreds. Native modules stay outside.
// The bench's daemon RSS child is bundled the same way, so that `npm run bench` measures
// the daemon as the lab runs it (one bundle) next to the daemon as `xlss daemon` runs it
// (the modules under dist/).
import { build } from 'esbuild';

const options = {
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
};

await build({
  ...options,
  entryPoints: [new URL('../../daemon/bin.ts', import.meta.url).pathname],
  outfile: new URL('../../dist/xlss-daemon.mjs', import.meta.url).pathname,
});
await build({
  ...options,
  entryPoints: [new URL('../../test/bench/daemon-rss-child.ts', import.meta.url).pathname],
  outfile: new URL('../../dist/test/bench/daemon-rss-child.bundle.mjs', import.meta.url).pathname,
});
