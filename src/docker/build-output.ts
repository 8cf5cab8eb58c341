// Colour and cursor escapes: the classic builder passes a RUN step's stderr through with colour codes.
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;
/** BuildKit's (20.10) second line of every step: its digest, which tells the pusher nothing. */
const STEP_DIGEST = /^#\d+ sha256:[0-9a-f]{64}$/;
/** A BuildKit progress line (`#4 [2/3] COPY …`, `#4 0.512 output`, `#4 ERROR: …`). */
const PROGRESS = /^#\d+ /;
/** The frames around BuildKit's failing step and Dockerfile excerpt (`------`, ` > [2/2] RUN …:`, `   2 | >>> RUN …`, `Dockerfile:2`). */
const FRAMING = /^(-{4,}|\s+>|\s*\d+ \|)|^Dockerfile(\.\S+)?:\d+$/;
const ERROR_PREFIX = /^ERROR:\s*/;

/** A line of the CLI's output as the pusher sees it, or undefined for one not worth a line. */
export function shownLine(raw: string): string | undefined {
  const line = raw.replace(ANSI_ESCAPE, '').replace(/\s+$/, '');
  if (line.trim() === '' || STEP_DIGEST.test(line)) return undefined;
  return line;
}

/**
 * The one line that says why a build failed, from the lines the CLI wrote to stderr (where both
 * BuildKit's progress and every builder's error go): BuildKit's closing `ERROR: failed to solve: …`
 * (CLIs from 23.0, buildx), else the last line that is neither progress nor framing (`executor
 * failed running […]: exit code: 3` from the 20.10 CLI, `The command '…' returned a non-zero code: 3`
 * from the classic builder, `Cannot connect to the Docker daemon …`). `exit` describes how the CLI
 * ended, for when it said nothing usable.
 */
export function failureReason(stderrLines: string[], exit: string): string {
  const errors = stderrLines.filter((line) => ERROR_PREFIX.test(line));
  // The first: "ERROR: BuildKit is enabled but the buildx component is missing" is followed by more.
  const solve = errors.find((line) => /failed to solve/.test(line)) ?? errors[0];
  if (solve !== undefined) return solve.replace(ERROR_PREFIX, '');
  const last = stderrLines.filter((line) => !PROGRESS.test(line) && !FRAMING.test(line) && line.trim() !== '').at(-1);
  return last?.trim() ?? `the docker CLI ${exit} without saying why`;
}
