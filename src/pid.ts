/** Whether a process id names a running process (ours included): how stale locks and temp files are told from live ones. */
export function isAlive(pid: number): boolean {
  // 0 and negative ids name process groups to kill(), never one process.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as someone else.
    return (e as { code?: string }).code === 'EPERM';
  }
}
