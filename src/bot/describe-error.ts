/** One-line description of an error for log messages (already safe to pass to a RedactingLogger). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const status = (err as { statusCode?: unknown }).statusCode;
    return [typeof code === 'string' ? code : null, typeof status === 'number' ? `HTTP ${status}` : null, err.message].filter(Boolean).join(' ');
  }
  return String(err);
}
