/**
 * ANSI colours for deploy log lines: bold step headers, green success, red failure, yellow for
 * superseded. Only applied when asked for: git gives the hook no terminal to detect
 * (`git push -o color`), the CLI colours when its stdout is a terminal.
 */
export function colorizeDeployLine(line: string): string {
  if (line.startsWith('-----> ')) return `\x1b[1m${line}\x1b[0m`;
  if (line.startsWith('✔')) return `\x1b[32m${line}\x1b[0m`;
  if (line.startsWith('✘')) return `\x1b[31m${line}\x1b[0m`;
  if (line.startsWith('⇢')) return `\x1b[33m${line}\x1b[0m`;
  return line;
}
