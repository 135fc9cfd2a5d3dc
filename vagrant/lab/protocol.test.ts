import { describe, expect, it } from 'vitest';
import { lineReader } from './protocol.js';

function reader() {
  const msgs: unknown[] = [];
  const bad: string[] = [];
  return {
    msgs,
    bad,
    feed: lineReader(
      (m) => msgs.push(m),
      (l) => bad.push(l),
    ),
  };
}

describe('lineReader', () => {
  it('parses several messages in one chunk', () => {
    const r = reader();
    r.feed('{"a":1}\n{"b":2}\n');
    expect(r.msgs).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('joins a line split across chunks and keeps a partial line until its newline', () => {
    const r = reader();
    r.feed('{"ev":"std');
    expect(r.msgs).toEqual([]);
    r.feed(Buffer.from('out","data":"aGk="}\n{"ev":'));
    expect(r.msgs).toEqual([{ ev: 'stdout', data: 'aGk=' }]);
    r.feed('"exit","code":0}');
    expect(r.msgs).toHaveLength(1);
    r.feed('\n');
    expect(r.msgs).toEqual([
      { ev: 'stdout', data: 'aGk=' },
      { ev: 'exit', code: 0 },
    ]);
  });

  it('hands bad JSON to onBad and carries on', () => {
    const r = reader();
    r.feed('not json\n{"ok":true}\n{"trunc\n');
    expect(r.bad).toEqual(['not json', '{"trunc']);
    expect(r.msgs).toEqual([{ ok: true }]);
  });

  it('skips blank lines and tolerates CRLF', () => {
    const r = reader();
    r.feed('\n  \n{"a":1}\r\n');
    expect(r.msgs).toEqual([{ a: 1 }]);
    expect(r.bad).toEqual([]);
  });

  it('drops bad lines silently without onBad', () => {
    const msgs: unknown[] = [];
    const feed = lineReader((m) => msgs.push(m));
    expect(() => feed('}{\n{"a":1}\n')).not.toThrow();
    expect(msgs).toEqual([{ a: 1 }]);
  });

  it('hands on only objects: JSON that is not a message goes to onBad', () => {
    const r = reader();
    r.feed('null\n1\n"s"\n[1]\ntrue\n{"op":"ping","id":1}\n');
    expect(r.msgs).toEqual([{ op: 'ping', id: 1 }]);
    expect(r.bad).toEqual(['null', '1', '"s"', '[1]', 'true']);
  });

  it('keeps a character whose bytes are split across chunks', () => {
    const r = reader();
    const bytes = Buffer.from('{"s":"né"}\n');
    r.feed(bytes.subarray(0, 8)); // inside the two bytes of é
    r.feed(bytes.subarray(8));
    expect(r.msgs).toEqual([{ s: 'né' }]);
  });

  it('reads a line of tens of MiB fed in small chunks in linear time', () => {
    const r = reader();
    const data = 'A'.repeat(32 * 1024 * 1024);
    const line = Buffer.from(`{"d":"${data}"}\n`);
    const started = performance.now();
    for (let i = 0; i < line.length; i += 65536) r.feed(line.subarray(i, i + 65536));
    expect((r.msgs[0] as { d: string }).d.length).toBe(data.length);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
