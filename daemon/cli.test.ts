import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inProject } from '../common/paths.js';

let dir: string;
let token: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xlss-daemon-cli-'));
  token = join(dir, 'token');
  writeFileSync(token, 'cli-test-token-0123456789', { mode: 0o600 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the real binary (dist/ must be built, as npm test does). */
async function xlss(args: string[], env: Record<string, string> = {}) {
  if (!existsSync(inProject('dist/cli/main.js')))
    throw new Error('dist/cli/main.js is missing: run "npm run build" first (npm test builds first)');
  return execa(process.execPath, [inProject('bin/xlss.js'), ...args], {
    reject: false,
    timeout: 30_000,
    env: { XLSS_LOG_LEVEL: 'silent', ...env },
  });
}

function config(yaml: string): string {
  const file = join(dir, 'daemon.yaml');
  writeFileSync(file, `nodeName: ${hostname()}\naddress: 10.77.0.11\ntokenFile: ${token}\n${yaml}`);
  return file;
}

describe('xlss daemon (the real binary)', () => {
  it('exits non-zero naming an unknown key, and starts nothing', async () => {
    const r = await xlss(['daemon', '--config', config('listen: { prot: 7680 }\n')]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('xlss: listen.prot: unknown key');
  });

  it('exits non-zero naming a key with a bad value, from the file or the environment', async () => {
    const file = config('listen: { port: 99999 }\n');
    const r = await xlss(['daemon', '--config', file]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^xlss: listen\.port: must be an integer from 1 to 65535/);
    const e = await xlss(['daemon', '--config', config('')], { XLSS_RECONCILE_INTERVAL_SECONDS: 'often' });
    expect(e.exitCode).not.toBe(0);
    expect(e.stderr).toContain('reconcileIntervalSeconds');
    expect(e.stderr).toContain('XLSS_RECONCILE_INTERVAL_SECONDS');
  });

  it('refuses a token file that others can read', async () => {
    chmodSync(token, 0o644);
    const r = await xlss(['daemon', '--config', config('')]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('xlss: tokenFile:');
  });

  it('check-config prints the validated config without the token', async () => {
    const r = await xlss(['daemon', 'check-config', '--config', config('labels: { rack: r1 }\n')], {
      XLSS_LISTEN_PORT: '7700',
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.config).toMatchObject({
      address: '10.77.0.11',
      listen: { port: 7700 },
      labels: { rack: 'r1' },
    });
    expect(r.stdout).not.toContain('cli-test-token');
    expect(out.env).toContainEqual({ key: 'listen.port', env: 'XLSS_LISTEN_PORT' });
  });
});
