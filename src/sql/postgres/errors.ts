/** How PostgreSQL's errors reach users: the SQLSTATE classes they branch on, and the values servers echo hidden. */
import type { ErrorCode } from '../../errors.js';

/**
 * Data (22) and integrity (23) errors echo the row or key: `Failing row contains (1, ab, null)`,
 * `Key (a, b)=(1, xy) already exists`. The values become `***`; column names and the rest stay.
 */
export function hideRowValues(detail: string, sqlState: string): string {
  const cls = sqlState.slice(0, 2);
  if (cls !== '22' && cls !== '23') return detail;
  return detail
    .replace(/Failing row contains \(.*\)(\.?)$/s, 'Failing row contains (***)$1')
    .replace(/\)=\(.*?\)(?= already exists| is not present| is still referenced| conflicts with|\.?$)/gs, ')=(***)');
}

export const CONNECTION_CODES = /^(E(CONNREFUSED|CONNRESET|HOSTUNREACH|NETUNREACH|ADDRNOTAVAIL|PIPE|TIMEDOUT|NOENT|ACCES)|ENOTFOUND|EAI_AGAIN|CONNECT_TIMEOUT|CONNECTION_(CLOSED|ENDED|DESTROYED)|SASL_SIGNATURE_MISMATCH|AUTH_TYPE_NOT_IMPLEMENTED)$/;

/**
 * SQLSTATE classes users branch on: 08 connection, 57P01-57P03 server shutdown or restart, 3D unknown database; 28 (rejected credentials:
 * 28P01 bad password, 28000 unknown role or no pg_hba entry) and 42501 (privilege) are
 * PermissionDenied, like a storage's rejected keys.
 */
export function classify(sqlState: string): ErrorCode {
  if (sqlState === '42501') return 'PermissionDenied';
  if (sqlState === '57014') return 'Aborted';
  const cls = sqlState.slice(0, 2);
  if (cls === '28') return 'PermissionDenied';
  // 57P01-57P03: the server is shutting down, restarting or not yet up (57014 above is a cancel).
  if (cls === '08' || cls === '3D' || /^57P0[1-3]$/.test(sqlState)) return 'Connection';
  return 'Sql';
}
