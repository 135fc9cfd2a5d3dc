import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadControllerConfig } from '../../controller/config.js';
import { contextFor, removeLabContext, writeLabContext } from './cluster.js';
import { clusterFiles, newToken, renderControllerConfig, renderDaemonConfig } from './cluster-config.js';
import { isLabFile } from './labdir.js';

const nodes = [
  { name: 'node1', ip: '10.77.0.11' },
  { name: 'node2', ip: '10.77.0.12' },
];

describe('cluster config of a lab', () => {
  it('gives each daemon its name, address, the controller and its token files', () => {
    const doc = parse(renderDaemonConfig(nodes[1] as (typeof nodes)[number], '10.77.0.1'));
    expect(doc).toMatchObject({
      nodeName: 'node2',
      address: '10.77.0.12',
      listen: { port: 7680 },
      tokenFile: '/etc/xlss/daemon.token',
      vg: 'xlss',
      thinPool: 'pool',
      controller: { url: 'http://10.77.0.1:7690', tokenFile: '/etc/xlss/controller.token' },
    });
    expect(doc.handlers.fencePeer).toMatch(/\/systemd\/xlss-fence-peer$/);
  });

  it('renders a controller config the controller itself accepts, every node registered', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlss-cl-'));
    const file = join(dir, 'controller.yaml');
    writeFileSync(file, renderControllerConfig(dir, '10.77.0.1', nodes));
    const config = loadControllerConfig({ file, env: {} });
    expect(config.listen).toEqual({
      host: '10.77.0.1',
      port: 7690,
      socketPath: join(dir, 'controller.sock'),
    });
    expect(config.core.nodes).toEqual([
      {
        name: 'node1',
        url: 'http://10.77.0.11:7680',
        address: '10.77.0.11',
        tokenFile: join(dir, 'node1.token'),
      },
      {
        name: 'node2',
        url: 'http://10.77.0.12:7680',
        address: '10.77.0.12',
        tokenFile: join(dir, 'node2.token'),
      },
    ]);
    expect(config.core.heartbeatIntervalMs).toBeLessThan(config.core.nodeTimeoutMs);
    expect(config.core.defaultBackupTarget).toBe('/srv/xlss-backups');
  });

  it('names its files so that lab down removes them', () => {
    const f = clusterFiles('/var/tmp/lab');
    for (const p of [
      f.controllerConfig,
      f.controllerToken,
      f.controllerSocket,
      f.database,
      f.nodeToken('node3'),
    ])
      expect(isLabFile(p.slice('/var/tmp/lab/'.length))).toBe(true);
    expect(isLabFile('controller.db-wal')).toBe(true);
    expect(isLabFile('controller.yaml.bak')).toBe(false);
  });

  it('makes tokens both the daemon and the controller accept', () => {
    const a = newToken();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(newToken()).not.toBe(a);
  });
});

describe('the context file of a lab', () => {
  it('is written for the lab and removed only when it points to that lab', () => {
    const home = mkdtempSync(join(tmpdir(), 'xlss-ctx-'));
    const path = join(home, 'context.json');
    const lab = { dir: '/var/tmp/xlss-lab', hostIp: '10.77.0.1' };
    writeLabContext(lab, path);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(contextFor(lab));
    expect(contextFor(lab).socketPath).toBe('/var/tmp/xlss-lab/controller.sock');
    // Another lab's down leaves it alone.
    expect(removeLabContext('/var/tmp/other-lab', path)).toBe(false);
    expect(JSON.parse(readFileSync(path, 'utf8')).tokenFile).toBe('/var/tmp/xlss-lab/controller.token');
    expect(removeLabContext(lab.dir, path)).toBe(true);
    expect(() => readFileSync(path)).toThrow();
    expect(removeLabContext(lab.dir, path)).toBe(false);
  });
});
