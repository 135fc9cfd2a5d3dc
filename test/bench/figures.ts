/**
 * The bench's one way to print a figure: `bench <name>: <value> <unit>`, with
 * `(baseline <value> <unit>, ratio <r>)` when two things were measured side by side in
 * the same run. Every figure is kept for bench-results.json.
 */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: { value: number; unit: string };
  ratio?: number;
}

export const figures: Figure[] = [];

export const round = (n: number) => Math.round(n * 100) / 100;
export const seconds = (since: number) => (performance.now() - since) / 1000;

export function report(name: string, value: number, unit: string, baseline?: number): void {
  const f: Figure = { name, value: round(value), unit };
  let line = `bench ${name}: ${f.value} ${unit}`;
  if (baseline !== undefined) {
    f.baseline = { value: round(baseline), unit };
    f.ratio = round(value / baseline);
    line += ` (baseline ${f.baseline.value} ${unit}, ratio ${f.ratio})`;
  }
  figures.push(f);
  process.stdout.write(`${line}\n`);
}

/** A line that says why a figure was not measured (never a made-up value). */
export function notMeasured(name: string, why: string): void {
  process.stdout.write(`bench ${name}: not measured (${why})\n`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}
