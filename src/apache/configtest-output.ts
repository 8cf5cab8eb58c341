/** Where Apache's configtest says its config breaks: the innermost `Syntax error on line N of FILE`. */
export interface ConfigtestCulprit {
  file: string;
  line: number;
  /** Apache's own words on what is wrong (the line after the location). */
  complaint: string;
}

/**
 * The file and line configtest blames, or undefined when the output names none. An error in an
 * included file is reported as nested `Syntax error on line N of FILE:` parts; the last one is the
 * file that holds the bad line.
 */
export function configtestCulprit(output: string): ConfigtestCulprit | undefined {
  const matches = [...output.matchAll(/Syntax error on line (\d+) of ([^\n]+?):(?:\s|$)/g)];
  const last = matches.at(-1);
  if (!last) return undefined;
  const rest = output.slice((last.index ?? 0) + last[0].length);
  const complaint =
    rest
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '' && !/^Syntax error on line/.test(l)) ?? '';
  return { file: last[2], line: Number(last[1]), complaint };
}

/**
 * The message a deploy fails with when configtest fails: a file slipway did not write is named as
 * the thing to fix (slipway put its own files back, so pushing again after the fix works).
 */
export function configtestFailure(output: string, slipwayFiles: string[], fallback: string): string {
  const culprit = configtestCulprit(output);
  if (!culprit || slipwayFiles.includes(culprit.file)) return fallback;
  return `Apache's config does not pass configtest because of ${culprit.file} (line ${culprit.line}: ${culprit.complaint}), a file slipway did not write; slipway changed nothing: fix that file (apachectl configtest), then push again`;
}
