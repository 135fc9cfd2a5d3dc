#!/usr/bin/env node
// `xlss daemon` (what systemd runs on every node) runs the one-file daemon bundle that
// `npm run build` makes (dist/xlss-daemon.mjs, the same one lab guests run): one
// tree-shaken module keeps 17-18 MiB less resident than the same code loaded as the
// hundreds of modules under dist/ (see daemon_rss_* in `npm run bench`).
if (process.argv[2] === 'daemon') {
  await import('../dist/xlss-daemon.mjs');
} else {
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(process.argv);
}
