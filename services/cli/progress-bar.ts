/**
 * A progress bar on stderr for long inputs: redrawn in place at a terminal at most ten times a
 * second; elsewhere (CI logs, pipes) one line per tenth of the way, so logs stay short.
 */
export interface ProgressBar {
  update(done: number, total: number, detail?: string): void;
  finish(detail?: string): void;
}

export function createProgressBar(label: string, output: NodeJS.WriteStream = process.stderr): ProgressBar {
  const interactive = output.isTTY === true;
  let lastDrawn = 0;
  let lastTenth = -1;
  const width = 30;
  const line = (fraction: number, detail: string): string => {
    const filled = Math.round(fraction * width);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%${detail ? ` ${detail}` : ''}`;
  };
  return {
    update(done, total, detail = '') {
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      if (interactive) {
        const now = Date.now();
        if (now - lastDrawn < 100) return;
        lastDrawn = now;
        output.write(`\r${line(fraction, detail)}`);
        return;
      }
      const tenth = Math.floor(fraction * 10);
      if (tenth > lastTenth && tenth < 10) {
        lastTenth = tenth;
        output.write(`${line(fraction, detail)}\n`);
      }
    },
    finish(detail = '') {
      output.write(`${interactive ? '\r' : ''}${line(1, detail)}\n`);
    },
  };
}
