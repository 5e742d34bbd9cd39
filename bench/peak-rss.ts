/**
 * This process's peak resident set in KiB: VmHWM from /proc/self/status on Linux. Not
 * `process.resourceUsage().maxRSS`: Linux carries that across exec, so a child spawned by a big
 * parent reports at least the parent's size at the fork.
 */
import { readFileSync } from 'node:fs';

export function peakRssKiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // Not Linux: the best there is.
  }
  return process.resourceUsage().maxRSS;
}
