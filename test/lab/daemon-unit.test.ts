import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';
import { useLab } from './helpers/lab.js';

// The daemon run by systemd/xlss-daemon.service in a guest booted with systemd as PID 1:
// the unit's ExecStart, readiness (Type=notify), hardening, restart on failure and
// graceful stop, for real. The guest sees the checkout read-only at the same path and
// its /etc and /usr/local are a tmpfs overlay, so the test installs the config and the
// `xlss` link there the way an operator would.
const lab = useLab('da-unit', { nodes: 1, disk: '512MiB', init: 'systemd' });

const CHECKOUT = projectRoot();
const TOKEN = 'lab-daemon-token-0123456789abcdef';
const DISK = '/dev/disk/by-id/virtio-xlss-data';
const URL = 'http://127.0.0.1:7680';

const sh = (script: string) => lab.sh('node1', script);

/** `systemctl show` properties as a record. */
async function unitProps(...props: string[]): Promise<Record<string, string>> {
  const out = await sh(`systemctl show ${props.map((p) => `-p ${p}`).join(' ')} xlss-daemon`);
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | string = '';
  for (;;) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(last)}`);
    await sleep(1000);
  }
}

function writeConfig(extra = ''): Promise<string> {
  return sh(
    `mkdir -p /etc/xlss && umask 077 && printf '%s\\n' '${TOKEN}' > /etc/xlss/daemon.token && ` +
      `printf '%s\\n' 'nodeName: node1' 'address: 10.77.0.11' 'tokenFile: /etc/xlss/daemon.token' ` +
      `'vg: xlss' 'labels: { lab: da-unit }' 'logLevel: info' ${extra ? `'${extra}'` : ''} > /etc/xlss/daemon.yaml`,
  );
}

describe('xlss-daemon.service under systemd', () => {
  it('is linked but skipped (not failed) while there is no config', async () => {
    const p = await unitProps('LoadState', 'ActiveState', 'ConditionResult', 'Type', 'NotifyAccess');
    expect(p).toMatchObject({
      LoadState: 'loaded',
      ActiveState: 'inactive',
      Type: 'notify',
      NotifyAccess: 'all',
    });
    expect((await sh('systemctl --failed --no-legend --plain')).trim()).toBe('');
  });

  it('starts through the unit, reports ready, and answers /healthz and an authenticated /v1/node', async () => {
    expect((await sh('uname -n')).trim()).toBe('node1');
    await sh(`pvcreate -qq -y ${DISK} && vgcreate -qq xlss ${DISK}`);
    const vgSize = Number((await sh('vgs --noheadings --units b --nosuffix -o vg_size xlss')).trim());
    await sh(`ln -sfn ${CHECKOUT}/bin/xlss.js /usr/local/bin/xlss`);
    await writeConfig();
    // Type=notify: start returns only once the daemon has sent READY=1.
    const started = Date.now();
    await sh('systemctl start xlss-daemon');
    process.stderr.write(`[da-unit] systemctl start took ${Date.now() - started} ms\n`);
    expect(await unitProps('ActiveState', 'SubState')).toEqual({
      ActiveState: 'active',
      SubState: 'running',
    });
    // Mounts the daemon makes for workloads must be the host's: no private mount namespace.
    const { MainPID } = await unitProps('MainPID');
    const ns = (await sh(`readlink /proc/1/ns/mnt /proc/${MainPID}/ns/mnt`)).trim().split('\n');
    expect(ns).toHaveLength(2);
    expect(ns[1]).toBe(ns[0]);
    // The hardening is in force: the seccomp filter and the capability bounding set.
    const status = await sh(`grep -E '^(Seccomp|NoNewPrivs|CapBnd):' /proc/${MainPID}/status`);
    expect(status).toMatch(/Seccomp:\s+2/);
    expect(status).toMatch(/NoNewPrivs:\s+1/);
    const capBnd = BigInt(`0x${/CapBnd:\s+([0-9a-f]+)/.exec(status)?.[1]}`);
    expect(capBnd & (1n << 25n), 'CAP_SYS_TIME is dropped').toBe(0n);
    expect(capBnd & (1n << 21n), 'CAP_SYS_ADMIN is kept').not.toBe(0n);
    expect(capBnd & (1n << 16n), 'CAP_SYS_MODULE is kept').not.toBe(0n);

    expect(JSON.parse(await sh(`curl -sS --max-time 10 ${URL}/healthz`))).toEqual({ status: 'ok' });
    expect((await sh(`curl -s -o /dev/null -w '%{http_code}' --max-time 10 ${URL}/v1/node`)).trim()).toBe(
      '401',
    );
    const info = JSON.parse(
      await sh(`curl -sS --fail --max-time 30 -H 'Authorization: Bearer ${TOKEN}' ${URL}/v1/node`),
    );
    expect(info).toMatchObject({ name: 'node1', address: '10.77.0.11', labels: { lab: 'da-unit' } });
    expect(info.vg).toMatchObject({ name: 'xlss', sizeBytes: vgSize });
    expect(info.vg.sizeBytes).toBeGreaterThan(0);
    expect(info.disks.length).toBeGreaterThan(0);
    const metrics = await sh(
      `curl -sS --fail --max-time 30 -H 'Authorization: Bearer ${TOKEN}' ${URL}/metrics`,
    );
    expect(metrics).toContain(`xlss_daemon_vg_size_bytes ${vgSize}`);
    expect(metrics).toMatch(/xlss_daemon_command_duration_seconds_count\{command="vgs",outcome="ok"\} [1-9]/);
  });

  it('is restarted by systemd after kill -9', async () => {
    const before = await unitProps('MainPID', 'NRestarts');
    await sh(`kill -9 ${before.MainPID}`);
    const after = await eventually(
      'a restarted daemon',
      () => unitProps('MainPID', 'NRestarts', 'ActiveState'),
      (p) => p.ActiveState === 'active' && p.MainPID !== before.MainPID && p.MainPID !== '0',
    );
    expect(Number(after.NRestarts)).toBeGreaterThan(Number(before.NRestarts));
    expect(JSON.parse(await sh(`curl -sS --max-time 10 ${URL}/healthz`))).toEqual({ status: 'ok' });
  });

  it('stops gracefully on systemctl stop: exit 0, result success', async () => {
    await sh('systemctl stop xlss-daemon');
    const p = await unitProps('ActiveState', 'Result', 'ExecMainStatus', 'ExecMainCode');
    expect(p).toMatchObject({ ActiveState: 'inactive', Result: 'success', ExecMainStatus: '0' });
  });

  it('refuses a bad config at start, naming the key in the journal', async () => {
    await writeConfig('listen: { prot: 7680 }');
    const r = await sh('systemctl start xlss-daemon; echo rc=$?');
    expect(r).not.toContain('rc=0');
    const journal = await sh('journalctl -u xlss-daemon --no-pager -o cat -n 50');
    expect(journal).toContain('xlss: listen.prot: unknown key');
    await sh('systemctl stop xlss-daemon; systemctl reset-failed xlss-daemon');
  });
});
