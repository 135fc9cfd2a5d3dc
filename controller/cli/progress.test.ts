import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream, text: () => text };
}

describe('createProgress', () => {
  it('without a terminal prints one plain line per 10% step, clamped to 0..100', () => {
    const s = sink();
    const p = createProgress('sync vol1', { tty: false, stream: s.stream });
    for (const pct of [-5, 3, 9.9, 10, 12, 55, 100, 130]) p.update(pct);
    p.stop();
    expect(s.text()).toBe(
      ['xlss: sync vol1 0%', 'xlss: sync vol1 10%', 'xlss: sync vol1 50%', 'xlss: sync vol1 100%', ''].join(
        '\n',
      ),
    );
  });

  it('on a terminal draws a bar with the label and percent', () => {
    const s = sink();
    const p = createProgress('backup vol1', { tty: true, stream: s.stream });
    p.update(42);
    p.stop();
    expect(s.text()).toContain('backup vol1 [');
    expect(s.text()).toContain('42%');
  });
});
