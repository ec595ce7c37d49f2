import { createHash } from 'node:crypto';

/** Length of a checksum string as Prisma writes it: SHA-256, 64 lower-case hex digits. */
const CHECKSUM_LENGTH = 64;

/** The value Prisma stores in `_prisma_migrations.checksum`: SHA-256 of the script, hex, zero-padded. */
export function migrationChecksum(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

// Very old Prisma versions wrote each byte without zero padding (prisma-engines#1887).
function legacyChecksum(script: string): string {
  return Array.from(createHash('sha256').update(script, 'utf8').digest(), (byte) => byte.toString(16)).join(
    '',
  );
}

/**
 * Whether a script still matches a stored checksum, the way Prisma's `script_matches_checksum`
 * decides it: line endings do not count (git may turn LF into CRLF), and legacy unpadded
 * checksums are still recognised.
 */
export function scriptMatchesChecksum(script: string, checksum: string): boolean {
  const render =
    checksum.length !== 0 && checksum.length !== CHECKSUM_LENGTH ? legacyChecksum : migrationChecksum;
  const variants = [script, script.replaceAll('\r\n', '\n'), script.replaceAll('\n', '\r\n')];
  return variants.some((variant) => render(variant) === checksum);
}
