// Bundles the lab's guest agent into one file: under emulation every module node
// loads over 9p costs start-up time, so the guest loads exactly one.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('./agent.ts', import.meta.url).pathname],
  outfile: new URL('../../dist/lab-agent.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
});
