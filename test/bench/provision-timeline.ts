/**
 * A daemon's pino log (one JSON object a line) as a provisioning timeline: for each
 * volume whose name matches, every line from its first to its last mention (steps,
 * commands with their duration, waits), in seconds after the first. Commands carry no
 * volume field, so every line in the window is shown: the lvs reports between steps are
 * part of the cost being looked for.
 */
interface LogLine {
  time: number;
  msg: string;
  volume?: string;
  step?: string;
  command?: string;
  args?: string[];
  durationMs?: number;
  why?: string;
}

function parse(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{')) continue;
    try {
      const l = JSON.parse(raw) as LogLine;
      if (typeof l.time === 'number' && typeof l.msg === 'string') out.push(l);
    } catch {
      // A torn last line: skipped.
    }
  }
  return out;
}

const mentions = (l: LogLine, name: string) =>
  l.volume === name || (l.args ?? []).some((a) => a.includes(name));

function describe(l: LogLine): string {
  if (l.command) {
    const args = (l.args ?? []).filter((a) => !a.startsWith('/var/lib/xlss/drbd/')).join(' ');
    return `${l.command} ${args.slice(0, 90)} (${l.durationMs ?? '?'} ms)`;
  }
  return [l.msg, l.step, l.why].filter(Boolean).join(' ');
}

export function daemonTimeline(text: string, volumes: RegExp): string {
  const lines = parse(text);
  const names = [...new Set(lines.map((l) => l.volume).filter((v): v is string => !!v && volumes.test(v)))];
  let out = '';
  for (const name of names) {
    const first = lines.findIndex((l) => mentions(l, name));
    let last = first;
    lines.forEach((l, i) => {
      if (mentions(l, name)) last = i;
    });
    const t0 = lines[first]?.time ?? 0;
    out += `-- ${name}\n`;
    for (const l of lines.slice(first, last + 1))
      out += `${((l.time - t0) / 1000).toFixed(2).padStart(7)}  ${describe(l)}\n`;
  }
  return out;
}
