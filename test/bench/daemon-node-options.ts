/**
 * The node options production gives the daemon, read from where they are set: the
 * `Environment=NODE_OPTIONS=...` line of systemd/xlss-daemon.service. The bench runs its
 * daemon with exactly these, so its RSS figure is the one a node sees.
 */
export function daemonNodeOptions(unitText: string): string[] {
  const lines = unitText.split('\n').filter((l) => /^Environment=("?)NODE_OPTIONS=/.test(l.trim()));
  if (lines.length !== 1)
    throw new Error(
      `xlss-daemon.service: expected one Environment=NODE_OPTIONS= line, found ${lines.length}`,
    );
  const value = (lines[0] ?? '').trim().replace(/^Environment=("?)NODE_OPTIONS=(.*)\1$/, '$2');
  const options = value.split(/\s+/).filter((o) => o !== '');
  for (const o of options)
    if (!/^--[a-z0-9-]+(=[A-Za-z0-9._-]+)?$/.test(o))
      throw new Error(`xlss-daemon.service: NODE_OPTIONS: "${o}" is not a plain node option`);
  return options;
}
